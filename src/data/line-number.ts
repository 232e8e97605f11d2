/**
 * The line of a file a byte offset is on, counted as an editor and the CSV parser count them: from
 * 1, every LF, CRLF or lone CR ends a line. The numeric CSV reader keeps no line count while it
 * parses (its ranges are parsed out of order, in worker threads); when a record fails, the file is
 * read again up to the record, once, to name its line.
 */
import type { FileHandle } from 'node:fs/promises';

const LF = 0x0a;
const CR = 0x0d;
const CHUNK_BYTES = 1 << 20;

/** The 1-based line of `file` that byte `offset` is on. */
export async function lineNumberAt(file: FileHandle, offset: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(offset, 1)));
  let line = 1;
  let afterCr = false;
  let position = 0;
  while (position < offset) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, offset - position), position);
    if (bytesRead === 0) break;
    for (let i = 0; i < bytesRead; i++) {
      const byte = buffer[i];
      // A CRLF is one line break: the LF after a CR (in this chunk or the last) is not counted.
      if (byte === CR) line++;
      else if (byte === LF && !afterCr) line++;
      afterCr = byte === CR;
    }
    position += bytesRead;
  }
  return line;
}
