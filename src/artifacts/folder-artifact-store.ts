/**
 * The artifact store on a local (or mounted) folder:
 *
 * ```
 * <dir>/sha256/<first 2 hex>/<digest>   complete artifacts, never modified in place
 * <dir>/tmp/<uuid>.part                  uploads in progress
 * <dir>/tmp/gc-<uuid>.part               an artifact garbage collection is removing
 * <dir>/encryption.json                  present when the store is encrypted (encryption-marker.ts)
 * <dir>/keys/<first 2 hex>/<digest>.<body id>.json   the wrapped data key of an encrypted body
 * ```
 *
 * An upload is written to `tmp/`, hashed while it streams, fsynced, renamed into place and the
 * folder fsynced: rename is atomic on POSIX, so a crash leaves at most a temp file and never a
 * half-written artifact. `tmp/` lives under the same root because rename is only atomic within
 * one filesystem. The two-character fan-out keeps folders small (256 of them).
 *
 * Given a master keyring, the store encrypts every new body (`encrypted-body.ts`); the digest
 * stays that of the plaintext, so addressing, deduplication and the streamed verification are
 * unchanged. A body's data-key file is renamed into place before the body, so a reader that finds
 * a body always finds its key.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StratumError } from '../errors/index.ts';
import { assertArtifactDigest, isArtifactDigest } from './artifact-digest.ts';
import { dataKeyPath, wrapDataKey, writeDataKeyFile } from './data-key-file.ts';
import {
  bodyIdAt,
  type BodyKeys,
  dataKeyOf,
  type NewBody,
  newBody,
  plainSizeAt,
  readBody,
  readBodyChunks,
  readBodyHeader,
} from './encrypted-body.ts';
import { checkEncryptionMarker } from './encryption-marker.ts';
import type { MasterKeyring } from './master-keys.ts';
import {
  type ArtifactInfo,
  type ArtifactStore,
  type ArtifactStream,
  type CollectGarbageOptions,
  type CollectGarbageResult,
  DEFAULT_GC_GRACE_MS,
  type PutArtifactOptions,
} from './artifact-store.ts';

/** Options of {@link createFolderArtifactStore}. */
export interface FolderArtifactStoreOptions {
  /** Root folder of the store; created (with parents) when missing. */
  readonly dir: string;
  /**
   * Encrypts new artifacts with these master keys (see `master-keys.ts`). A store once opened
   * with a key refuses to open without it, or with another one.
   * @default undefined (plaintext; refused if the folder is encrypted)
   */
  readonly keyring?: MasterKeyring | undefined;
}

/** Temp files older than this are left over from a crash and are removed when a store opens. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

const PREFIX = /^[0-9a-f]{2}$/;
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Opens (creating if needed) a folder artifact store and removes temp files a crashed upload
 * left more than {@link STALE_TEMP_MS} ago. Several processes may share one folder: every write
 * is a rename of complete content, and content-addressing makes concurrent writes of the same
 * digest harmless; garbage collection re-checks an artifact's age after moving it aside, so it
 * never deletes content another process has just uploaded again.
 *
 * @example
 * ```ts
 * const store = await createFolderArtifactStore({ dir: '.stratum/artifacts' })
 * t.after(() => store.close())
 * const { digest } = await store.put(createReadStream('model.onnx'))
 * ```
 */
export async function createFolderArtifactStore(options: FolderArtifactStoreOptions): Promise<ArtifactStore> {
  const root = resolve(options.dir);
  const keysDir = join(root, 'keys');
  const layout: Layout = {
    blobs: join(root, 'sha256'),
    tmp: join(root, 'tmp'),
    keys: options.keyring === undefined ? undefined : { keysDir, keyring: options.keyring },
  };
  await mkdir(layout.blobs, { recursive: true });
  await mkdir(layout.tmp, { recursive: true });
  await checkEncryptionMarker({ root, tmpDir: layout.tmp, keyring: options.keyring });
  if (layout.keys !== undefined) await mkdir(keysDir, { recursive: true });
  await removeStaleTemps({ tmp: layout.tmp, olderThan: Date.now() - STALE_TEMP_MS });
  return new FolderArtifactStore(layout);
}

interface Layout {
  readonly blobs: string;
  readonly tmp: string;
  /** Set when the store encrypts. */
  readonly keys: BodyKeys | undefined;
}

class FolderArtifactStore implements ArtifactStore {
  readonly #layout: Layout;
  /**
   * Per-digest lock, so that within one process the rename of an upload and the unlink of the
   * same digest by delete or GC never interleave (GC re-checks the age under the lock).
   */
  readonly #locks = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(layout: Layout) {
    this.#layout = layout;
  }

  put(source: AsyncIterable<Uint8Array> | Uint8Array, options: PutArtifactOptions = {}): Promise<ArtifactInfo> {
    return this.#track(async () => {
      const expected =
        options.expectedDigest === undefined
          ? undefined
          : assertArtifactDigest(options.expectedDigest, 'expectedDigest');
      const { maxBytes } = options;
      if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
        throw new StratumError('BAD_REQUEST', `maxBytes: expected an integer >= 0, got ${maxBytes}`);
      }
      const temp = join(this.#layout.tmp, `${randomUUID()}.part`);
      const keys = this.#layout.keys;
      const body = keys === undefined ? undefined : newBody();
      let keyFile: string | undefined;
      try {
        const info = await writeTemp({ source, temp, maxBytes, body });
        if (expected !== undefined && info.digest !== expected) {
          throw new StratumError(
            'BAD_REQUEST',
            `content digest ${info.digest} does not match the expected digest ${expected}; nothing was stored`,
            { details: { expected, actual: info.digest, size: info.size } },
          );
        }
        if (keys === undefined || body === undefined) {
          await this.#withLock(info.digest, () => this.#moveIntoPlace({ temp, digest: info.digest }));
          return info;
        }
        const { digest } = info;
        const bodyId = body.header.bodyId;
        keyFile = dataKeyPath({ keysDir: keys.keysDir, digest, bodyId });
        const file = wrapDataKey({ dataKey: body.dataKey, digest, bodyId, master: keys.keyring.current });
        // The key goes in before the body: a body in place always has its key.
        await writeDataKeyFile({ path: keyFile, tmpDir: this.#layout.tmp, file });
        // One critical section: the check of the stored body and the rename never interleave
        // with another put, delete or collection of the same digest in this process.
        const kept = await this.#withLock(digest, async () => {
          const refreshed = await this.#keepExisting({ digest, keys });
          if (refreshed === undefined) await this.#moveIntoPlace({ temp, digest });
          return refreshed;
        });
        if (kept === undefined) return info;
        await Promise.all([rm(temp, { force: true }), rm(keyFile, { force: true })]);
        return { ...info, storedAt: kept };
      } catch (err) {
        await rm(temp, { force: true });
        if (keyFile !== undefined) await rm(keyFile, { force: true });
        throw err;
      }
    });
  }

  get(digest: string): Promise<ArtifactStream> {
    return this.#track(async () => {
      const info = await this.#stat(digest);
      const path = this.#pathOf(info.digest);
      return {
        digest: info.digest,
        size: info.size,
        // Opened per iteration, so an unconsumed stream holds no file descriptor.
        [Symbol.asyncIterator]: () => readVerified({ path, digest: info.digest, keys: this.#layout.keys }),
      };
    });
  }

  read(digest: string): Promise<Uint8Array> {
    return this.#track(async () => {
      const path = this.#pathOf(assertArtifactDigest(digest));
      let bytes: Buffer;
      try {
        bytes = await readBody({ path, digest, keys: this.#layout.keys });
      } catch (err) {
        throw isNotFound(err) ? notFound(digest) : err;
      }
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== digest) throw corrupt({ digest, actual });
      // readFile allocates an unpooled buffer of the exact size, so the view owns its ArrayBuffer.
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  has(digest: string): Promise<boolean> {
    return this.#track(async () => {
      try {
        await this.#stat(digest);
        return true;
      } catch (err) {
        if (err instanceof StratumError && err.code === 'ARTIFACT_NOT_FOUND') return false;
        throw err;
      }
    });
  }

  stat(digest: string): Promise<ArtifactInfo> {
    return this.#track(() => this.#stat(digest));
  }

  delete(digest: string): Promise<boolean> {
    return this.#track(() => {
      const path = this.#pathOf(assertArtifactDigest(digest));
      return this.#withLock(digest, async () => {
        const bodyId = await this.#bodyIdAt({ path, digest });
        const removed = await unlinkIfPresent(path);
        await this.#removeKeyOf({ digest, bodyId });
        return removed;
      });
    });
  }

  async *list(): AsyncIterable<ArtifactInfo> {
    this.#assertOpen();
    yield* this.#entries();
  }

  async *#entries(): AsyncGenerator<ArtifactInfo, void, undefined> {
    const prefixes = (await readdir(this.#layout.blobs)).filter((name) => PREFIX.test(name)).sort();
    for (const prefix of prefixes) {
      const names = await readdirIfPresent(join(this.#layout.blobs, prefix));
      for (const name of names.filter((n) => isArtifactDigest(n) && n.startsWith(prefix)).sort()) {
        const info = await this.#statIfPresent({ path: join(this.#layout.blobs, prefix, name), digest: name });
        if (info !== undefined) yield info;
      }
    }
  }

  collectGarbage(options: CollectGarbageOptions): Promise<CollectGarbageResult> {
    return this.#track(async () => {
      const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
      if (!(Number.isFinite(graceMs) && graceMs >= 0)) {
        throw new StratumError('BAD_REQUEST', `graceMs: expected a number >= 0, got ${graceMs}`);
      }
      // One cutoff for the whole pass: anything written after the pass started is young.
      const cutoff = Date.now() - graceMs;
      const removed: ArtifactInfo[] = [];
      for await (const candidate of this.#entries()) {
        if (options.referenced.has(candidate.digest) || candidate.storedAt > cutoff) continue;
        if (options.dryRun === true) {
          removed.push(candidate);
          continue;
        }
        const collected = await this.#withLock(candidate.digest, () =>
          this.#collectOne({ digest: candidate.digest, cutoff }),
        );
        if (collected !== undefined) removed.push(collected);
      }
      return { removed, freedBytes: removed.reduce((sum, info) => sum + info.size, 0) };
    });
  }

  /**
   * Removes one artifact unless it was stored after `cutoff`. A put in another process may
   * rename fresh content into place at any moment, so the file is first moved out of sight and
   * its age checked on what was actually moved: fresh content goes back, old content is deleted.
   */
  async #collectOne(options: { digest: string; cutoff: number }): Promise<ArtifactInfo | undefined> {
    const { digest, cutoff } = options;
    const path = this.#pathOf(digest);
    const listed = await this.#statIfPresent({ path, digest });
    if (listed === undefined || listed.storedAt > cutoff) return undefined;
    const doomed = join(this.#layout.tmp, `gc-${randomUUID()}.part`);
    try {
      await rename(path, doomed);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const moved = await this.#statIfPresent({ path: doomed, digest });
    if (moved === undefined) return undefined;
    if (moved.storedAt > cutoff) {
      // Same digest, so replacing whatever is at `path` now is harmless.
      await rename(doomed, path);
      return undefined;
    }
    // Only the key of the body removed: a put elsewhere may have just placed another body and key.
    const bodyId = await this.#bodyIdAt({ path: doomed, digest });
    await rm(doomed, { force: true });
    await this.#removeKeyOf({ digest, bodyId });
    return moved;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StratumError('SHUTTING_DOWN', 'the artifact store is closed');
  }

  async #track<T>(operation: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    const running = operation();
    this.#inFlight.add(running);
    try {
      return await running;
    } finally {
      this.#inFlight.delete(running);
    }
  }

  async #withLock<T>(digest: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(digest) ?? Promise.resolve();
    let release = (): void => {};
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#locks.set(digest, tail);
    await previous;
    try {
      return await critical();
    } finally {
      release();
      if (this.#locks.get(digest) === tail) this.#locks.delete(digest);
    }
  }

  async #stat(digest: string): Promise<ArtifactInfo> {
    const path = this.#pathOf(assertArtifactDigest(digest));
    const info = await this.#statIfPresent({ path, digest });
    if (info === undefined) throw notFound(digest);
    return info;
  }

  /** Size (of the plaintext) and time of the body at `path`; undefined when there is none. */
  async #statIfPresent(options: { path: string; digest: string }): Promise<ArtifactInfo | undefined> {
    const info = await statIfPresent(options);
    if (info === undefined || this.#layout.keys === undefined) return info;
    try {
      return { ...info, size: await plainSizeAt({ ...options, fileSize: info.size }) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #bodyIdAt(options: { path: string; digest: string }): Promise<string | undefined> {
    return this.#layout.keys === undefined ? undefined : bodyIdAt(options);
  }

  async #removeKeyOf(options: { digest: string; bodyId: string | undefined }): Promise<void> {
    const keys = this.#layout.keys;
    if (keys === undefined || options.bodyId === undefined) return;
    await rm(dataKeyPath({ keysDir: keys.keysDir, digest: options.digest, bodyId: options.bodyId }), { force: true });
  }

  /**
   * Deduplication of an encrypted put: when a body that opens with the configured keys is already
   * in place, it is kept (its mtime refreshed, as a rename would) and the new one dropped, so the
   * same content uploaded twice is one body and one key file. Returns the refreshed storedAt, or
   * undefined when the new body must go in (none there, a plaintext one, or one that fails).
   */
  async #keepExisting(options: { digest: string; keys: BodyKeys }): Promise<number | undefined> {
    const { digest, keys } = options;
    const path = this.#pathOf(digest);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const header = await readBodyHeader({ handle, digest });
      if (header === undefined) return undefined;
      await dataKeyOf({ keys, digest, header });
    } catch {
      return undefined;
    } finally {
      await handle.close();
    }
    const now = new Date();
    try {
      await utimes(path, now, now);
    } catch (err) {
      // Garbage collection (in another process) took it meanwhile: the new body goes in.
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const refreshed = await statIfPresent({ path, digest });
    return refreshed?.storedAt;
  }

  /** Only ever called with a validated digest: this is where a digest becomes a path. */
  #pathOf(digest: string): string {
    return join(this.#layout.blobs, digest.slice(0, 2), digest);
  }

  async #moveIntoPlace(move: { temp: string; digest: string }): Promise<void> {
    const folder = join(this.#layout.blobs, move.digest.slice(0, 2));
    // Prefix folders are never removed, so a rename into one cannot race with its deletion.
    if ((await mkdir(folder, { recursive: true })) !== undefined) await syncDirectory(this.#layout.blobs);
    // Replacing an existing artifact is safe (same digest, freshly verified content) and atomic,
    // and it refreshes storedAt, which protects a re-upload from GC's grace period.
    await rename(move.temp, this.#pathOf(move.digest));
    await syncDirectory(folder);
  }
}

/** Streams `source` into a new file at `temp`, hashing and counting; fsyncs before returning. */
async function writeTemp(options: {
  source: AsyncIterable<Uint8Array> | Uint8Array;
  temp: string;
  maxBytes: number | undefined;
  /** Encrypts what is written (the digest and size stay those of the plaintext). */
  body: NewBody | undefined;
}): Promise<ArtifactInfo> {
  const { source, maxBytes, body } = options;
  const hash = createHash('sha256');
  let size = 0;
  const file = await open(options.temp, 'wx');
  try {
    if (body !== undefined) await writeAll({ file, chunk: body.header.raw });
    for await (const chunk of source instanceof Uint8Array ? [source] : source) {
      if (!(chunk instanceof Uint8Array)) {
        throw new StratumError('BAD_REQUEST', `artifact content: expected Uint8Array chunks, got ${typeof chunk}`);
      }
      size += chunk.byteLength;
      if (maxBytes !== undefined && size > maxBytes) {
        throw new StratumError('BODY_TOO_LARGE', `artifact is larger than the limit of ${maxBytes} bytes`, {
          details: { maxBytes },
        });
      }
      hash.update(chunk);
      if (body === undefined) await writeAll({ file, chunk });
      else await writeAllPieces({ file, pieces: body.encryptor.update(chunk) });
    }
    if (body !== undefined) await writeAllPieces({ file, pieces: body.encryptor.final() });
    await file.sync();
    const { mtimeMs } = await file.stat();
    return { digest: hash.digest('hex'), size, storedAt: Math.floor(mtimeMs) };
  } finally {
    await file.close();
  }
}

async function writeAll(options: { file: FileHandle; chunk: Uint8Array }): Promise<void> {
  const { file, chunk } = options;
  let offset = 0;
  // write(2) may write less than asked; loop until the whole chunk is down.
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Writes pieces in order with writev (sealed segments come as ciphertext and tag). */
async function writeAllPieces(options: { file: FileHandle; pieces: Buffer[] }): Promise<void> {
  const { file } = options;
  let pieces = options.pieces.filter((p) => p.byteLength > 0);
  while (pieces.length > 0) {
    // At most 512 buffers a call, well under every platform's IOV_MAX (a 256 MiB put in one
    // buffer is 8192 pieces).
    const { bytesWritten } = await file.writev(pieces.slice(0, 512));
    // writev may write less than asked, like write(2): drop what went down and go on.
    let left = bytesWritten;
    while (left > 0 && pieces.length > 0) {
      const first = pieces[0] as Buffer;
      if (first.byteLength <= left) {
        left -= first.byteLength;
        pieces = pieces.slice(1);
      } else {
        pieces = [first.subarray(left), ...pieces.slice(1)];
        left = 0;
      }
    }
  }
}

/**
 * Yields the file's chunks (decrypted, in an encrypted store), then throws ARTIFACT_CORRUPT if
 * they did not hash to `digest`.
 */
async function* readVerified(options: {
  path: string;
  digest: string;
  keys: BodyKeys | undefined;
}): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash('sha256');
  const { path, digest, keys } = options;
  const chunks =
    keys === undefined
      ? (createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Uint8Array>)
      : readBodyChunks({ path, digest, keys, chunkBytes: READ_CHUNK_BYTES });
  try {
    for await (const bytes of chunks) {
      hash.update(bytes);
      yield bytes;
    }
  } catch (err) {
    // Deleted between get() and the first read.
    throw isNotFound(err) ? notFound(options.digest) : err;
  }
  const actual = hash.digest('hex');
  if (actual !== options.digest) throw corrupt({ digest: options.digest, actual });
}

/** fsync on a folder makes a rename in it durable; without it a crash can undo the rename. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems (certain FUSE and network mounts) cannot fsync a folder; the rename is
    // still atomic there, only its durability is up to the mount.
    if (!hasCode(err, 'EINVAL') && !hasCode(err, 'ENOTSUP')) throw err;
  } finally {
    await handle.close();
  }
}

async function removeStaleTemps(options: { tmp: string; olderThan: number }): Promise<void> {
  for (const name of await readdir(options.tmp)) {
    const path = join(options.tmp, name);
    const info = await fileStat(path);
    // Only files: anything else in tmp/ was not put there by this store.
    if (info !== undefined && info.mtimeMs < options.olderThan) await rm(path, { force: true });
  }
}

async function statIfPresent(options: { path: string; digest: string }): Promise<ArtifactInfo | undefined> {
  const info = await fileStat(options.path);
  return info && { digest: options.digest, size: info.size, storedAt: Math.floor(info.mtimeMs) };
}

/** Size and modification time of a regular file; undefined when there is none at `path`. */
async function fileStat(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function readdirIfPresent(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function notFound(digest: string): StratumError {
  return new StratumError('ARTIFACT_NOT_FOUND', `no artifact with digest ${digest}`, { details: { digest } });
}

function corrupt(options: { digest: string; actual: string }): StratumError {
  return new StratumError(
    'ARTIFACT_CORRUPT',
    `artifact ${options.digest} is corrupt: its content now hashes to ${options.actual}; restore it or upload it again`,
    { details: { digest: options.digest, actual: options.actual } },
  );
}

function isNotFound(err: unknown): boolean {
  return hasCode(err, 'ENOENT');
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
