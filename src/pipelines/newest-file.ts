/**
 * The ingest step's "newest data": the most recently modified file in a folder whose name matches
 * a pattern (`*` any run of characters, `?` one). Ties go to the later name, so files named by
 * date pick the latest when a copy gave them all one modification time.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { StratumError } from '../errors/index.ts';

/** The newest matching file. */
export interface NewestFile {
  readonly path: string;
  readonly modifiedAt: number;
  readonly bytes: number;
  /** How many files matched. */
  readonly matched: number;
}

/** A pattern as a whole-name regular expression. */
export function patternRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Finds the newest file of `dir` (relative to `baseDir`) matching `pattern`.
 * @throws StratumError BAD_REQUEST naming the folder when it cannot be read or nothing matches.
 */
export async function newestFile(args: { dir: string; pattern: string; baseDir: string }): Promise<NewestFile> {
  const dir = isAbsolute(args.dir) ? args.dir : resolve(args.baseDir, args.dir);
  const matcher = patternRegExp(args.pattern);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    throw new StratumError(
      'BAD_REQUEST',
      `ingest.newest.dir: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const matching = names.filter((name) => matcher.test(name));
  let best: NewestFile | undefined;
  for (const name of matching) {
    const path = join(dir, name);
    const info = await stat(path);
    const newer =
      best === undefined || info.mtimeMs > best.modifiedAt || (info.mtimeMs === best.modifiedAt && path > best.path);
    if (newer) best = { path, modifiedAt: info.mtimeMs, bytes: info.size, matched: matching.length };
  }
  if (best === undefined) {
    throw new StratumError('BAD_REQUEST', `ingest.newest: no file in ${dir} matches ${JSON.stringify(args.pattern)}`);
  }
  return best;
}
