/**
 * Opens a file for streaming or for positioned reads, waiting until it is open so that a missing or
 * unreadable file fails with a message naming it, before any parsing starts.
 */
import { once } from 'node:events';
import { createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { StratumError } from '../errors/index.ts';

/** Options of {@link openTextStream}. */
export interface OpenTextStreamOptions {
  /**
   * Bytes read per chunk (the read-ahead that bounds memory).
   * @default 65536
   */
  readonly highWaterMark?: number;
}

/** Opens `path` as a UTF-8 text stream; rejects with NOT_FOUND / BAD_REQUEST naming the file. */
export async function openTextStream(path: string, options: OpenTextStreamOptions = {}): Promise<ReadStream> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: options.highWaterMark ?? 65_536 });
  try {
    await once(stream, 'open');
    return stream;
  } catch (error) {
    stream.destroy();
    throw openError(path, error);
  }
}

/** Opens `path` for reading; NOT_FOUND when it does not exist, BAD_REQUEST when it cannot be read. */
export async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw openError(path, error);
  }
}

function openError(path: string, error: unknown): StratumError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new StratumError('NOT_FOUND', `${path}: no such file`, { cause: error });
  return new StratumError('BAD_REQUEST', `${path}: cannot be read (${code ?? String(error)})`, { cause: error });
}
