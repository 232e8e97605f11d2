/**
 * `<store>/encryption.json`: says that a store is encrypted and with which master key (by id, the
 * key check value of `master-keys.ts`). A store opened with a key checks it here first, so a
 * wrong key is refused at start-up, naming both ids, instead of failing on every read later; a
 * store opened without a key refuses an encrypted folder instead of treating bodies as plaintext.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import type { MasterKeyring } from './master-keys.ts';

const MarkerSchema = z
  .object({
    version: z.literal(1),
    algorithm: z.literal('AES-256-GCM'),
    /** The master key every data key is (or, mid-rotation, was) wrapped with. */
    masterKeyId: z.string().regex(/^[0-9a-f]{16}$/),
  })
  .strict();

type Marker = z.infer<typeof MarkerSchema>;

/** The marker's file name in the store's root. */
export const MARKER_FILE = 'encryption.json';

/**
 * Checks the configured keys against the store: writes the marker when a key is given to a store
 * that has none (turning encryption on; earlier artifacts stay readable as plaintext).
 *
 * @throws StratumError MASTER_KEY_INVALID when the store is encrypted and no key, or a key that is
 *   neither the marker's nor a configured previous one, is given.
 */
export async function checkEncryptionMarker(options: {
  root: string;
  /** The store's temp folder, on the same filesystem. */
  tmpDir: string;
  keyring: MasterKeyring | undefined;
}): Promise<void> {
  const { root, keyring } = options;
  let marker = await readMarker(root);
  if (marker === undefined) {
    if (keyring === undefined) return;
    marker = await createMarker({ root, tmpDir: options.tmpDir, masterKeyId: keyring.current.id });
  }
  if (keyring === undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      `the artifact store at ${root} is encrypted (master key ${marker.masterKeyId}) and no master key is configured: set STRATUM_MASTER_KEY or STRATUM_MASTER_KEY_FILE`,
      { details: { root, masterKeyId: marker.masterKeyId } },
    );
  }
  if (keyring.byId(marker.masterKeyId) === undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      `wrong master key: the artifact store at ${root} is encrypted with master key ${marker.masterKeyId}, but the configured key is ${keyring.current.id}${keyring.previous.length > 0 ? ` (previous: ${keyring.previous.map((k) => k.id).join(', ')})` : ''}; set STRATUM_MASTER_KEY to the store's key, or to a new key with the store's key in STRATUM_MASTER_KEY_PREVIOUS to rotate`,
      {
        details: {
          root,
          masterKeyId: marker.masterKeyId,
          configured: [keyring.current.id, ...keyring.previous.map((k) => k.id)],
        },
      },
    );
  }
}

/** Records that every data key is now wrapped by `masterKeyId` (the end of a rotation). */
export async function writeMarker(options: { root: string; tmpDir: string; masterKeyId: string }): Promise<void> {
  const temp = join(options.tmpDir, `marker-${randomUUID()}.part`);
  try {
    await writeDurably(temp, markerOf(options.masterKeyId), 'wx');
    await rename(temp, join(options.root, MARKER_FILE));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The marker's master key id, or undefined for a plain store. */
export async function readMarker(root: string): Promise<Marker | undefined> {
  const path = join(root, MARKER_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: ReturnType<typeof MarkerSchema.safeParse>;
  try {
    parsed = MarkerSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = MarkerSchema.safeParse(undefined);
  }
  if (!parsed.success) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      `${path} is malformed; it says which master key encrypts the store: restore it, or write {"version":1,"algorithm":"AES-256-GCM","masterKeyId":"<id>"}`,
      { details: { path } },
    );
  }
  return parsed.data;
}

async function createMarker(options: { root: string; tmpDir: string; masterKeyId: string }): Promise<Marker> {
  const marker = markerOf(options.masterKeyId);
  const temp = join(options.tmpDir, `marker-${randomUUID()}.part`);
  try {
    await writeDurably(temp, marker, 'wx');
    // link() never replaces: of two processes turning encryption on at once, one creates the
    // marker and the other checks its key against it; nobody ever reads a half-written marker.
    await link(temp, join(options.root, MARKER_FILE));
    return marker;
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EEXIST') {
      const existing = await readMarker(options.root);
      if (existing !== undefined) return existing;
    }
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

function markerOf(masterKeyId: string): Marker {
  return { version: 1, algorithm: 'AES-256-GCM', masterKeyId };
}

async function writeDurably(path: string, marker: Marker, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.writeFile(`${JSON.stringify(marker)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
