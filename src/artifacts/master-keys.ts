/**
 * The master keys that wrap the artifacts' data keys: parsed from the configured text (base64 or
 * hex of 32 bytes, inline or in a file) into a keyring of the current key, which wraps every new
 * data key, and the previous ones, which are only ever used to unwrap during a rotation. A key is
 * known by its id, an HMAC of a constant under the key: it names a key in files and messages
 * without revealing it, and doubles as the key check value a wrong key is refused by.
 */
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StratumError } from '../errors/index.ts';

/** Length of a master key (AES-256). */
export const MASTER_KEY_BYTES = 32;

/** Where the master keys come from (the `artifactEncryption` settings). */
export interface MasterKeySettings {
  /** The current master key: base64 or hex of 32 bytes (`STRATUM_MASTER_KEY`). */
  readonly masterKey?: string | undefined;
  /** A file holding the current master key in the same form (`STRATUM_MASTER_KEY_FILE`). */
  readonly masterKeyFile?: string | undefined;
  /** Earlier master keys, comma-separated, accepted for reading while a rotation runs (`STRATUM_MASTER_KEY_PREVIOUS`). */
  readonly previousMasterKeys?: string | undefined;
}

/** One master key and its id. */
export interface MasterKey {
  /** 16 hex characters, derived from the key; safe to log. */
  readonly id: string;
  readonly key: Buffer;
}

/** The keys an encrypted store is opened with. */
export interface MasterKeyring {
  /** Wraps every new data key; a rotation re-wraps the others with it. */
  readonly current: MasterKey;
  /** Accepted for unwrapping only. */
  readonly previous: readonly MasterKey[];
  /** The configured key with this id, current or previous. */
  byId(id: string): MasterKey | undefined;
}

/** The id of a master key: the first 8 bytes of HMAC-SHA256(key, a fixed label), in hex. */
export function masterKeyId(key: Uint8Array): string {
  return createHmac('sha256', key).update('stratum artifact master key id v1').digest('hex').slice(0, 16);
}

/**
 * Parses one key from its text form.
 *
 * @param label where the text came from (an environment variable or file), for the message; the
 *   text itself is never echoed.
 * @throws StratumError MASTER_KEY_INVALID when it is not base64 or hex of exactly 32 bytes.
 */
export function parseMasterKey(text: string, label: string): MasterKey {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (decoded.length === MASTER_KEY_BYTES) key = decoded;
  }
  if (key === undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      `${label}: expected a master key of ${MASTER_KEY_BYTES} bytes as base64 (44 characters) or hex (64 characters), got ${trimmed.length} characters that are not; generate one with \`openssl rand -base64 32\``,
      { details: { source: label, length: trimmed.length } },
    );
  }
  return { id: masterKeyId(key), key };
}

/** Builds a keyring from a current key and previous ones (duplicates of the current are dropped). */
export function createMasterKeyring(options: { current: MasterKey; previous?: readonly MasterKey[] }): MasterKeyring {
  const previous = (options.previous ?? []).filter((k) => k.id !== options.current.id);
  const all = new Map([options.current, ...previous].map((k) => [k.id, k]));
  return Object.freeze({
    current: options.current,
    previous: Object.freeze(previous),
    byId: (id: string) => all.get(id),
  });
}

/**
 * Reads the configured master keys; undefined when none is configured (the store stays plain).
 *
 * @param options.cwd folder a relative `masterKeyFile` is resolved against. @default process.cwd()
 * @throws StratumError MASTER_KEY_INVALID when a key is malformed, both an inline key and a key
 *   file are given, previous keys are given without a current one, or the key file cannot be read.
 */
export async function loadMasterKeyring(
  settings: MasterKeySettings | undefined,
  options: { cwd?: string } = {},
): Promise<MasterKeyring | undefined> {
  const { masterKey, masterKeyFile, previousMasterKeys } = settings ?? {};
  if (masterKey !== undefined && masterKeyFile !== undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      'both STRATUM_MASTER_KEY and STRATUM_MASTER_KEY_FILE are set: give the master key one way only',
    );
  }
  let current: MasterKey | undefined;
  if (masterKey !== undefined) current = parseMasterKey(masterKey, 'STRATUM_MASTER_KEY');
  if (masterKeyFile !== undefined) {
    const path = resolve(options.cwd ?? process.cwd(), masterKeyFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new StratumError(
        'MASTER_KEY_INVALID',
        `STRATUM_MASTER_KEY_FILE: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err, details: { path } },
      );
    }
    current = parseMasterKey(text, `STRATUM_MASTER_KEY_FILE (${path})`);
  }
  const previous = (previousMasterKeys ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part, i) => parseMasterKey(part, `STRATUM_MASTER_KEY_PREVIOUS (key ${i + 1})`));
  if (current === undefined) {
    if (previous.length > 0) {
      throw new StratumError(
        'MASTER_KEY_INVALID',
        'STRATUM_MASTER_KEY_PREVIOUS is set without a current key: set STRATUM_MASTER_KEY (or STRATUM_MASTER_KEY_FILE) too',
      );
    }
    return undefined;
  }
  return createMasterKeyring({ current, previous });
}
