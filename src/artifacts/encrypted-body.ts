/**
 * Reading and writing one artifact body of an encrypted folder store: the segment framing of
 * `segment-cipher.ts` with the data key of `data-key-file.ts`. A body without the magic is a
 * plaintext artifact written before encryption was turned on, and is read as it is.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { dataKeyPath, readDataKeyFile, unwrapDataKey } from './data-key-file.ts';
import type { MasterKeyring } from './master-keys.ts';
import {
  type BodyHeader,
  BODY_ID_BYTES,
  corruptBody,
  DATA_KEY_BYTES,
  encodeHeader,
  hasBodyMagic,
  HEADER_BYTES,
  parseHeader,
  plainSizeOf,
  SegmentDecryptor,
  SegmentEncryptor,
} from './segment-cipher.ts';

const READ_BYTES = 1024 * 1024;

/** What an encrypted store reads and writes bodies with. */
export interface BodyKeys {
  /** `<store>/keys`. */
  readonly keysDir: string;
  readonly keyring: MasterKeyring;
}

/** A new body's key material: its header and a fresh data key. */
export interface NewBody {
  readonly header: BodyHeader;
  readonly dataKey: Buffer;
  readonly encryptor: SegmentEncryptor;
}

/** Starts a new body: a random body id and a fresh random data key. */
export function newBody(): NewBody {
  const header = encodeHeader({ bodyId: randomBytes(BODY_ID_BYTES) });
  const dataKey = randomBytes(DATA_KEY_BYTES);
  return { header, dataKey, encryptor: new SegmentEncryptor({ dataKey, header }) };
}

/** The header of the body at `path`, or undefined when it is plaintext. */
export async function readBodyHeader(options: { handle: FileHandle; digest: string }): Promise<BodyHeader | undefined> {
  const head = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await options.handle.read(head, 0, HEADER_BYTES, 0);
  const got = head.subarray(0, bytesRead);
  return hasBodyMagic(got) ? parseHeader(got, options.digest) : undefined;
}

/** The body id of the body at `path` (undefined when it is plaintext or gone). */
export async function bodyIdAt(options: { path: string; digest: string }): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(options.path, 'r');
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return (await readBodyHeader({ handle, digest: options.digest }).catch(() => undefined))?.bodyId;
  } finally {
    await handle.close();
  }
}

/** The plaintext size of the body at `path`, whose file is `fileSize` bytes. */
export async function plainSizeAt(options: { path: string; digest: string; fileSize: number }): Promise<number> {
  const handle = await open(options.path, 'r');
  try {
    const header = await readBodyHeader({ handle, digest: options.digest }).catch(() => undefined);
    return header === undefined
      ? options.fileSize
      : plainSizeOf({ fileSize: options.fileSize, segmentBytes: header.segmentBytes });
  } finally {
    await handle.close();
  }
}

/** The data key of a body, unwrapped with the configured master keys. */
export async function dataKeyOf(options: { keys: BodyKeys; digest: string; header: BodyHeader }): Promise<Buffer> {
  const { keys, digest, header } = options;
  const path = dataKeyPath({ keysDir: keys.keysDir, digest, bodyId: header.bodyId });
  const file = await readDataKeyFile({ path, digest });
  return unwrapDataKey({ file, digest, bodyId: header.bodyId, keyring: keys.keyring });
}

/**
 * Yields the plaintext of the body at `path` as it is read: decrypted segment by segment when it
 * is encrypted, as stored when it is plaintext. One file handle serves the header and the
 * segments, so a concurrent replacement of the file (by rename) cannot mix two bodies.
 */
export async function* readBodyChunks(options: {
  path: string;
  digest: string;
  keys: BodyKeys;
  chunkBytes: number;
}): AsyncGenerator<Uint8Array, void, undefined> {
  const { digest } = options;
  const handle = await open(options.path, 'r');
  try {
    const header = await readBodyHeader({ handle, digest });
    const start = header === undefined ? 0 : HEADER_BYTES;
    const decryptor =
      header === undefined
        ? undefined
        : new SegmentDecryptor({ dataKey: await dataKeyOf({ keys: options.keys, digest, header }), header, digest });
    const stream = handle.createReadStream({ start, highWaterMark: options.chunkBytes, autoClose: false });
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      if (decryptor === undefined) yield bytes;
      else for (const plain of decryptor.update(bytes)) yield plain;
    }
    if (decryptor !== undefined) {
      const last = decryptor.final();
      if (last.length > 0) yield last;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads the whole body at `path` into memory, decrypting it when it is encrypted (a store without
 * keys reads every body as plaintext). An encrypted body is decrypted from 1 MiB reads straight
 * into the result, so the sealed file is never held whole beside it.
 */
export async function readBody(options: { path: string; digest: string; keys: BodyKeys | undefined }): Promise<Buffer> {
  const { path, digest, keys } = options;
  if (keys === undefined) return readFile(path);
  const handle = await open(path, 'r');
  let size: number;
  try {
    const header = await readBodyHeader({ handle, digest });
    // readFile allocates an unpooled buffer of the exact size, so the caller's view owns it.
    if (header === undefined) return await readFile(handle);
    size = plainSizeOf({ fileSize: (await handle.stat()).size, segmentBytes: header.segmentBytes });
  } finally {
    await handle.close();
  }
  // Unpooled and of the exact size, for the same reason.
  const out = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for await (const plain of readBodyChunks({ path, digest, keys, chunkBytes: READ_BYTES })) {
    if (offset + plain.length > size) throw corruptBody(digest, 'its segments do not add up to its size');
    out.set(plain, offset);
    offset += plain.length;
  }
  if (offset !== size) throw corruptBody(digest, 'its segments do not add up to its size');
  return out;
}
