/**
 * Where `stratum login` keeps the credential (API key or JWT) of each server the CLI talks to:
 * `~/.config/stratum/credentials.json`, readable by its owner only (file 0600, folder 0700), keyed
 * by the server's origin so that a key for one server is never sent to another.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';

const CredentialsSchema = z.object({ servers: z.record(z.string(), z.string().min(1)) }).strict();

/** The file (under the user's home folder). */
export function credentialsPath(): string {
  return join(homedir(), '.config', 'stratum', 'credentials.json');
}

function read(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const parsed = CredentialsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new StratumError('CONFIG_INVALID', `${path} is not a credentials file: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.servers;
}

/** The credential stored for the server at `url`, if any. */
export function storedCredential(url: string, path = credentialsPath()): string | undefined {
  return read(path)[new URL(url).origin];
}

/** Stores (or, with `undefined`, forgets) the credential of the server at `url`. */
export function storeCredential(url: string, credential: string | undefined, path = credentialsPath()): void {
  const servers = read(path);
  const origin = new URL(url).origin;
  if (credential === undefined) delete servers[origin];
  else servers[origin] = credential;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify({ servers }, null, 2)}\n`, { mode: 0o600 });
  // The mode above applies only when the file is created; an older file is tightened too.
  chmodSync(path, 0o600);
}
