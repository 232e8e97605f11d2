/**
 * The header of a numeric CSV: the first non-blank record, found in bytes (so the data that
 * follows can be read by byte offset, in ranges) and parsed by csv-parser.ts (so names are read
 * exactly as csvDataset reads them, quoted names included).
 */
import type { FileHandle } from 'node:fs/promises';
import { StratumError } from '../errors/index.ts';
import { CsvParser } from './csv-parser.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const HEADER_CHUNK = 65_536;

/** The column names and where the data starts. */
export interface CsvHeader {
  readonly names: readonly string[];
  /** The byte offset just after the header's line break (or the file's size). */
  readonly dataStart: number;
}

/** Where the header record ends in `bytes` (its line break), or -1 when `bytes` does not hold all of it. */
function headerEnd(bytes: Buffer, start: number): number {
  let quoted = false;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === LF || c === CR)) return i;
  }
  return -1;
}

/** Reads the header of the CSV open as `file`; `path` names it in errors. */
export async function readCsvHeader(
  file: FileHandle,
  options: { path: string; delimiter: string },
): Promise<CsvHeader> {
  const { path, delimiter } = options;
  let bytes = Buffer.alloc(0);
  let eof = false;
  let start = 0;
  let end = -1;
  while (end === -1 && !eof) {
    const chunk = Buffer.allocUnsafe(HEADER_CHUNK);
    const { bytesRead } = await file.read(chunk, 0, HEADER_CHUNK, bytes.length);
    eof = bytesRead === 0;
    bytes = Buffer.concat([bytes, chunk.subarray(0, bytesRead)]);
    if (start === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
    // Blank lines before the header are skipped, as csv-parser.ts skips them.
    while (start < bytes.length && (bytes[start] === LF || bytes[start] === CR)) start++;
    end = start < bytes.length ? headerEnd(bytes, start) : -1;
  }
  if (start >= bytes.length)
    throw new StratumError('BAD_REQUEST', `${path}: the file is empty (expected a header row)`);
  const stop = end === -1 ? bytes.length : end;
  // Blank lines before the header count in the line numbers of its errors.
  let firstLine = 1;
  for (let i = 0; i < start; i++) {
    if (bytes[i] === CR || (bytes[i] === LF && bytes[i - 1] !== CR)) firstLine++;
  }
  const parser = new CsvParser({ label: path, delimiter, firstLine });
  const names = [...parser.push(bytes.toString('utf8', start, stop)), ...parser.end()][0] ?? [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new StratumError('BAD_REQUEST', `${path}: the header names column "${name}" twice`);
    seen.add(name);
  }
  return { names, dataStart: end === -1 ? bytes.length : end + 1 };
}
