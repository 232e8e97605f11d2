/**
 * The on-disk variant of `Dataset.cache`: the first complete iteration writes every element to a
 * file (length-prefixed `v8.serialize` frames, so dates and typed arrays survive), later
 * iterations stream the file instead of the source. The file is written under a temporary name and
 * renamed only when the pass completes, so an interrupted pass never leaves a partial cache.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { deserialize, serialize } from 'node:v8';
import { StratumError } from '../errors/index.ts';

const FRAME_HEADER = 4;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Yields the elements of `source`, caching them in the file at `path` (or replaying it if present). */
export async function* diskCache<T>(source: AsyncIterable<T>, path: string): AsyncGenerator<T> {
  if (await exists(path)) {
    yield* readFrames<T>(path);
    return;
  }
  const temporary = `${path}.${randomUUID()}.partial`;
  const out = createWriteStream(temporary);
  let writeError: unknown;
  out.on('error', (error) => (writeError ??= error));
  try {
    await once(out, 'open');
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `${path}: cannot write the cache file (${String(error)})`, { cause: error });
  }
  let complete = false;
  try {
    for await (const item of source) {
      const body = serialize(item);
      const header = Buffer.allocUnsafe(FRAME_HEADER);
      header.writeUInt32LE(body.length);
      out.write(header);
      const flowing = out.write(body);
      if (writeError !== undefined) throw writeError;
      if (!flowing) await once(out, 'drain');
      yield item;
    }
    complete = true;
  } finally {
    out.end();
    await finished(out).catch((error: unknown) => {
      complete = false;
      writeError ??= error;
    });
    if (complete) await rename(temporary, path);
    else await rm(temporary, { force: true });
  }
  if (writeError !== undefined) throw writeError;
}

async function* readFrames<T>(path: string): AsyncGenerator<T> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const value of createReadStream(path)) {
    const chunk = value as Buffer;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= FRAME_HEADER) {
      const length = pending.readUInt32LE(offset);
      const end = offset + FRAME_HEADER + length;
      if (end > pending.length) break;
      yield deserialize(pending.subarray(offset + FRAME_HEADER, end)) as T;
      offset = end;
    }
    pending = pending.subarray(offset);
  }
  if (pending.length > 0) {
    throw new StratumError('BAD_REQUEST', `${path}: the cache file is truncated (delete it to rebuild the cache)`);
  }
}
