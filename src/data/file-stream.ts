/**
 * Opens a file for streaming, waiting until it is open so that a missing or unreadable file fails
 * with a message naming it, before any parsing starts.
 */
import { once } from 'node:events';
import { createReadStream, type ReadStream } from 'node:fs';
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StratumError('NOT_FOUND', `${path}: no such file`, { cause: error });
    throw new StratumError('BAD_REQUEST', `${path}: cannot be read (${code ?? String(error)})`, { cause: error });
  }
}
