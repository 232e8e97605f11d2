/**
 * The wrapped data key of one encrypted body, kept in a small file of its own beside the bodies
 * (`keys/<first 2 hex>/<digest>.<body id>.json`). Keeping it out of the body is what lets a
 * master-key rotation re-wrap every data key without rewriting a byte of any artifact: only these
 * files are replaced (atomically, by rename). The data key is sealed with AES-256-GCM under the
 * master key, with the digest and body id as associated data, so a key file moved to another
 * artifact, or edited, fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import type { MasterKey, MasterKeyring } from './master-keys.ts';
import { corruptBody, DATA_KEY_BYTES } from './segment-cipher.ts';

const KeyFileSchema = z
  .object({
    version: z.literal(1),
    algorithm: z.literal('AES-256-GCM'),
    masterKeyId: z.string().regex(/^[0-9a-f]{16}$/),
    iv: z.base64(),
    wrappedKey: z.base64(),
    tag: z.base64(),
  })
  .strict();

/** The content of a data-key file. */
export type DataKeyFile = z.infer<typeof KeyFileSchema>;

/** Where the data key of body `bodyId` of artifact `digest` lives, under the store's `keys/` folder. */
export function dataKeyPath(options: { keysDir: string; digest: string; bodyId: string }): string {
  return join(options.keysDir, options.digest.slice(0, 2), `${options.digest}.${options.bodyId}.json`);
}

/** Seals a data key under the master key. */
export function wrapDataKey(options: {
  dataKey: Buffer;
  digest: string;
  bodyId: string;
  master: MasterKey;
}): DataKeyFile {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', options.master.key, iv);
  cipher.setAAD(aadOf(options));
  const wrapped = Buffer.concat([cipher.update(options.dataKey), cipher.final()]);
  return {
    version: 1,
    algorithm: 'AES-256-GCM',
    masterKeyId: options.master.id,
    iv: iv.toString('base64'),
    wrappedKey: wrapped.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/**
 * Opens a data key with whichever configured master key wrapped it.
 * @throws StratumError MASTER_KEY_INVALID when that master key is not configured;
 *   ARTIFACT_CORRUPT when the file was edited or belongs to another artifact.
 */
export function unwrapDataKey(options: {
  file: DataKeyFile;
  digest: string;
  bodyId: string;
  keyring: MasterKeyring;
}): Buffer {
  const { file, digest, keyring } = options;
  const master = keyring.byId(file.masterKeyId);
  if (master === undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      `artifact ${digest}: its data key is wrapped by master key ${file.masterKeyId}, which is not configured (the current key is ${keyring.current.id}); set it in STRATUM_MASTER_KEY_PREVIOUS until \`stratum artifacts rotate-key\` has re-wrapped every data key`,
      { details: { digest, masterKeyId: file.masterKeyId, currentKeyId: keyring.current.id } },
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', master.key, Buffer.from(file.iv, 'base64'));
  decipher.setAAD(aadOf(options));
  decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
  const head = decipher.update(Buffer.from(file.wrappedKey, 'base64'));
  let dataKey: Buffer;
  try {
    dataKey = Buffer.concat([head, decipher.final()]);
  } catch {
    throw corruptBody(digest, 'its data key file fails authentication (edited, or moved from another artifact)');
  }
  if (dataKey.length !== DATA_KEY_BYTES) throw corruptBody(digest, 'its data key has the wrong length');
  return dataKey;
}

/**
 * Reads and validates a data-key file.
 * @throws StratumError ARTIFACT_CORRUPT when it is missing or malformed.
 */
export async function readDataKeyFile(options: { path: string; digest: string }): Promise<DataKeyFile> {
  let text: string;
  try {
    text = await readFile(options.path, 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT')) throw corruptBody(options.digest, 'the file holding its data key is missing');
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corruptBody(options.digest, 'its data key file is not JSON');
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) throw corruptBody(options.digest, 'its data key file is malformed');
  return parsed.data;
}

/**
 * Writes a data-key file atomically and durably: to a temp file in `tmpDir` (same filesystem),
 * fsynced, then renamed into place.
 */
export async function writeDataKeyFile(options: { path: string; tmpDir: string; file: DataKeyFile }): Promise<void> {
  const temp = join(options.tmpDir, `key-${randomUUID()}.part`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(options.file)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await mkdir(dirname(options.path), { recursive: true });
    await rename(temp, options.path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function aadOf(options: { digest: string; bodyId: string }): Buffer {
  return Buffer.from(`stratum artifact data key v1|${options.digest}|${options.bodyId}`, 'utf8');
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
