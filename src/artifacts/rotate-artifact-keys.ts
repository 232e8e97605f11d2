/**
 * Master-key rotation of an encrypted folder store: every data-key file wrapped by an earlier
 * master key is unwrapped and wrapped again by the current one, then the store's marker names the
 * current key. The bodies are never read or written: a rotation costs one small file per artifact
 * whatever the artifacts' sizes. It can be run again after an interruption (files already on the
 * current key are skipped), and servers keep serving meanwhile as long as they have both keys.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StratumError } from '../errors/index.ts';
import { isArtifactDigest } from './artifact-digest.ts';
import { readDataKeyFile, unwrapDataKey, wrapDataKey, writeDataKeyFile } from './data-key-file.ts';
import { checkEncryptionMarker, readMarker, writeMarker } from './encryption-marker.ts';
import { createFolderArtifactStore } from './folder-artifact-store.ts';
import { hasBodyMagic } from './segment-cipher.ts';
import type { MasterKeyring } from './master-keys.ts';

/** Options of {@link rotateArtifactKeys}. */
export interface RotateArtifactKeysOptions {
  /** The store's root folder. */
  readonly dir: string;
  /** The new key as current, the key(s) being retired as previous. */
  readonly keyring: MasterKeyring;
  /** Told after every re-wrapped data key (for progress). */
  readonly onKey?: (done: number) => void;
  /**
   * Also encrypt the plaintext artifacts written before encryption was turned on (each is read,
   * verified against its digest and put again, which replaces it by an encrypted body).
   * @default false
   */
  readonly encryptPlaintext?: boolean;
}

/** What {@link rotateArtifactKeys} did. */
export interface RotateArtifactKeysResult {
  /** The master key every data key is now wrapped by. */
  readonly masterKeyId: string;
  /** The master key the store was marked with before. */
  readonly previousMarkerKeyId: string | undefined;
  /** Data keys re-wrapped. */
  readonly rewrapped: number;
  /** Data keys already wrapped by the current key. */
  readonly alreadyCurrent: number;
  /** With `encryptPlaintext`: plaintext artifacts now encrypted. */
  readonly encrypted: number;
  /** With `encryptPlaintext`: plaintext artifacts left as they are because they no longer match their digest. */
  readonly corrupt: readonly string[];
}

const KEY_FILE = /^([0-9a-f]{64})\.([0-9a-f]{32})\.json$/;

/**
 * Re-wraps every data key of the store with the current master key.
 * @throws StratumError MASTER_KEY_INVALID when the store's key is not among the configured ones, or
 *   a data key is wrapped by a key that is not configured (nothing is marked rotated then).
 */
export async function rotateArtifactKeys(options: RotateArtifactKeysOptions): Promise<RotateArtifactKeysResult> {
  const root = resolve(options.dir);
  const { keyring } = options;
  const tmpDir = join(root, 'tmp');
  const keysDir = join(root, 'keys');
  await mkdir(tmpDir, { recursive: true });
  const before = await readMarker(root);
  await checkEncryptionMarker({ root, tmpDir, keyring });
  let rewrapped = 0;
  let alreadyCurrent = 0;
  for (const prefix of (await readdirIfPresent(keysDir)).sort()) {
    for (const name of (await readdirIfPresent(join(keysDir, prefix))).sort()) {
      const match = KEY_FILE.exec(name);
      const digest = match?.[1];
      const bodyId = match?.[2];
      if (digest === undefined || bodyId === undefined || !isArtifactDigest(digest)) continue;
      const path = join(keysDir, prefix, name);
      const file = await readDataKeyFile({ path, digest });
      if (file.masterKeyId === keyring.current.id) {
        alreadyCurrent += 1;
        continue;
      }
      const dataKey = unwrapDataKey({ file, digest, bodyId, keyring });
      const next = wrapDataKey({ dataKey, digest, bodyId, master: keyring.current });
      await writeDataKeyFile({ path, tmpDir, file: next });
      rewrapped += 1;
      options.onKey?.(rewrapped);
    }
  }
  // Last: until every data key is on the new key, the marker keeps naming the old one, so a
  // process still holding only the old key is not refused mid-rotation.
  await writeMarker({ root, tmpDir, masterKeyId: keyring.current.id });
  const sealed = options.encryptPlaintext === true ? await encryptPlaintext({ root, keyring }) : undefined;
  return {
    masterKeyId: keyring.current.id,
    previousMarkerKeyId: before?.masterKeyId,
    rewrapped,
    alreadyCurrent,
    encrypted: sealed?.encrypted ?? 0,
    corrupt: sealed?.corrupt ?? [],
  };
}

/**
 * Puts every plaintext body again through an encrypted store: the put verifies the content against
 * its digest (a damaged file is reported, never sealed as if it were good) and replaces the body.
 */
async function encryptPlaintext(options: {
  root: string;
  keyring: MasterKeyring;
}): Promise<{ encrypted: number; corrupt: string[] }> {
  const store = await createFolderArtifactStore({ dir: options.root, keyring: options.keyring });
  let encrypted = 0;
  const corrupt: string[] = [];
  try {
    for await (const info of store.list()) {
      const path = join(options.root, 'sha256', info.digest.slice(0, 2), info.digest);
      if (!(await isPlaintext(path))) continue;
      try {
        await store.put(createReadStream(path), { expectedDigest: info.digest });
        encrypted += 1;
      } catch (err) {
        if (!(err instanceof StratumError && err.code === 'BAD_REQUEST')) throw err;
        corrupt.push(info.digest);
      }
    }
  } finally {
    await store.close();
  }
  return { encrypted, corrupt };
}

async function isPlaintext(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return !hasBodyMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

async function readdirIfPresent(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT') return [];
    throw err;
  }
}
