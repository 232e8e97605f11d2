/**
 * One pass over a CSV or JSON Lines file's bytes that counts its records and notes where every
 * `chunkRows`-th record starts (byte offset and line), so a chunk can later be read on its own
 * with a ranged read instead of parsing the file from its start. The CSV scan follows the
 * states of `data/csv-parser.ts` (quoted fields may hold newlines, empty lines are skipped, lines
 * are counted as an editor numbers them) byte by byte: UTF-8 never puts a quote, a comma or a
 * line break inside a multi-byte character, so bytes are enough.
 */
import { createReadStream } from 'node:fs';
import { StratumError } from '../../errors/index.ts';

/** Where a chunk of records starts in the file. */
export interface ChunkStart {
  /** Byte offset of the chunk's first record (or of blank lines before it). */
  readonly offset: number;
  /** The line (1-based) at that offset. */
  readonly line: number;
}

/** What a scan found. */
export interface ScanResult {
  /** Data records (the CSV header excluded). */
  readonly records: number;
  /** The start of records 0, chunkRows, 2·chunkRows, … */
  readonly starts: readonly ChunkStart[];
  /** The file's size in bytes (the end of the last chunk). */
  readonly bytes: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** Options of {@link scanCsv} and {@link scanJsonl}. */
export interface ScanOptions {
  readonly path: string;
  readonly chunkRows: number;
  /** Stops the scan (a cancelled job). */
  readonly signal?: AbortSignal | undefined;
}

const COMMA = 0x2c;

/**
 * Scans a CSV file (comma-separated) with a header row. The header's own start is not a chunk
 * start; record 0 is the first data record.
 */
export async function scanCsv(options: ScanOptions): Promise<ScanResult & { readonly headerEnd: ChunkStart }> {
  const { chunkRows } = options;
  let state = FIELD_START;
  let line = 1;
  let afterCr = false;
  // The last byte ended a line with a CR: an LF now belongs to that line end.
  let pendingCr = false;
  let recordStart = 0;
  let recordLine = 1;
  let fields = 0;
  let content = false;
  let quoted = false;
  let records = -1; // the header is record -1
  let headerEnd: { offset: number; line: number } | undefined;
  const starts: ChunkStart[] = [];
  let position = 0;
  const endRecord = (next: number): void => {
    line++;
    const blank = fields === 0 && !content && !quoted;
    if (!blank) {
      if (records === -1) headerEnd = { offset: next, line };
      else if (records % chunkRows === 0) starts.push({ offset: recordStart, line: recordLine });
      records++;
      recordStart = next;
      recordLine = line;
    }
    fields = 0;
    content = false;
    quoted = false;
    state = FIELD_START;
  };
  for await (const chunk of readBytes(options)) {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i] as number;
      if (pendingCr) {
        pendingCr = false;
        if (c === LF) {
          const at = position + i;
          if (recordStart === at) recordStart = at + 1;
          if (headerEnd !== undefined && headerEnd.offset === at) headerEnd.offset = at + 1;
          continue;
        }
      }
      if (state === QUOTED) {
        if (c === QUOTE) state = QUOTE_IN_QUOTED;
        else if (c === CR) line++;
        else if (c === LF && !afterCr) line++;
        afterCr = c === CR;
        continue;
      }
      if (state === QUOTE_IN_QUOTED && c === QUOTE) {
        state = QUOTED;
        afterCr = false;
        continue;
      }
      if (state === FIELD_START && c === QUOTE) {
        state = QUOTED;
        quoted = true;
        afterCr = false;
        continue;
      }
      if (c === LF || c === CR) {
        pendingCr = c === CR;
        endRecord(position + i + 1);
      } else if (c === COMMA) {
        fields++;
        state = FIELD_START;
      } else {
        content = true;
        state = UNQUOTED;
      }
    }
    position += n;
  }
  if (state === QUOTED) {
    throw new StratumError('BAD_REQUEST', `${options.path}: a quoted field is not closed before the end of the file`, {
      details: { file: options.path },
    });
  }
  if (fields > 0 || content || quoted) endRecord(position);
  if (headerEnd === undefined) {
    throw new StratumError('BAD_REQUEST', `${options.path}: the file is empty (expected a header row)`, {
      details: { file: options.path },
    });
  }
  return { records: Math.max(records, 0), starts, bytes: position, headerEnd };
}

/** Scans a JSON Lines file: every line holding more than white space is a record. */
export async function scanJsonl(options: ScanOptions): Promise<ScanResult> {
  const { chunkRows } = options;
  let line = 1;
  let content = false;
  let records = 0;
  let position = 0;
  const starts: ChunkStart[] = [];
  // Blank lines before a record belong to its chunk; the chunk starts after the previous record.
  let chunkFrom: ChunkStart = { offset: 0, line: 1 };
  const endLine = (next: number): void => {
    if (content) {
      if (records % chunkRows === 0) starts.push(chunkFrom);
      records++;
      chunkFrom = { offset: next, line: line + 1 };
    }
    content = false;
    line++;
  };
  for await (const chunk of readBytes(options)) {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i] as number;
      if (c === LF) endLine(position + i + 1);
      else if (!content && c !== SPACE && c !== TAB && c !== CR) content = true;
    }
    position += n;
  }
  if (content) endLine(position);
  return { records, starts, bytes: position };
}

async function* readBytes(options: ScanOptions): AsyncGenerator<Buffer> {
  const stream = createReadStream(options.path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      yield chunk as Buffer;
    }
  } finally {
    stream.destroy();
  }
}
