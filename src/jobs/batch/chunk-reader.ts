/**
 * Reads the rows of one chunk, wherever its file lies: a byte range of a CSV or JSON Lines file
 * (parsed from the chunk's own start, its line numbers continuing the file's) or a row range of a
 * Parquet file. Rows come out in batches as arrays of the requested columns' values, each with
 * its row index and line; a record that cannot be a row (a CSV line with the wrong number of
 * fields, a JSON line that is not an object) comes out as a bad row with its reason instead.
 */
import { createReadStream } from 'node:fs';
import { CsvParser } from '../../data/csv-parser.ts';
import { StratumError } from '../../errors/index.ts';
import type { PlannedChunk, PlannedSource } from './batch-plan.ts';
import { readParquetRange } from './duckdb-input.ts';

/** A row that is not processed, and why. */
export interface BadRow {
  /** 0-based index of the row in the input. */
  readonly row: number;
  /** The line of a text file it starts on. */
  readonly line?: number;
  readonly reason: string;
}

/** Rows read from a chunk. */
export interface RowBatch {
  /** Values of the requested columns, per row. */
  readonly records: unknown[][];
  /** Per record: its 0-based row index in the input. */
  readonly rows: number[];
  /** Per record: its line in a text file (0 for Parquet). */
  readonly lines: number[];
  readonly bad: BadRow[];
}

/** Options of {@link readChunk}. */
export interface ReadChunkOptions {
  readonly source: PlannedSource;
  readonly chunk: PlannedChunk;
  /** The columns to read, in the order the records hold them. */
  readonly columns: readonly string[];
  /** Rows per batch. */
  readonly batchRows: number;
  readonly signal?: AbortSignal | undefined;
}

/** The chunk's rows in batches of at most `batchRows`. */
export function readChunk(options: ReadChunkOptions): AsyncGenerator<RowBatch> {
  switch (options.source.kind) {
    case 'csv':
      return readCsvChunk(options);
    case 'jsonl':
      return readJsonlChunk(options);
    case 'parquet':
      return readParquetChunk(options);
  }
}

function emptyBatch(): RowBatch {
  return { records: [], rows: [], lines: [], bad: [] };
}

async function* textOf(options: ReadChunkOptions): AsyncGenerator<string> {
  const { chunk } = options;
  if (chunk.offset === undefined || chunk.end === undefined || chunk.end <= chunk.offset) return;
  const stream = createReadStream(options.source.path, {
    start: chunk.offset,
    end: chunk.end - 1,
    encoding: 'utf8',
    highWaterMark: 1 << 18,
  });
  try {
    for await (const text of stream) {
      options.signal?.throwIfAborted();
      yield text as string;
    }
  } finally {
    stream.destroy();
  }
}

async function* readCsvChunk(options: ReadChunkOptions): AsyncGenerator<RowBatch> {
  const { source, chunk, batchRows } = options;
  const width = source.columns.length;
  const indices = options.columns.map((name) => columnIndex(source, name));
  const parser = new CsvParser({ label: source.path, columnNames: source.columns, firstLine: chunk.line ?? 1 });
  let row = chunk.firstRow;
  let batch = emptyBatch();
  const take = (records: string[][]): void => {
    const lines = parser.lines;
    for (let k = 0; k < records.length; k++) {
      const record = records[k] as string[];
      const line = lines[k] as number;
      if (record.length !== width) {
        batch.bad.push({ row, line, reason: `line has ${record.length} fields, the header has ${width}` });
      } else {
        const values = new Array<unknown>(indices.length);
        for (let c = 0; c < indices.length; c++) values[c] = record[indices[c] as number];
        batch.records.push(values);
        batch.rows.push(row);
        batch.lines.push(line);
      }
      row++;
    }
  };
  for await (const text of textOf(options)) {
    take(parser.push(text));
    if (batch.records.length + batch.bad.length >= batchRows) {
      yield batch;
      batch = emptyBatch();
    }
  }
  take(parser.end());
  if (batch.records.length + batch.bad.length > 0) yield batch;
}

async function* readJsonlChunk(options: ReadChunkOptions): AsyncGenerator<RowBatch> {
  const { chunk, batchRows, columns } = options;
  let line = chunk.line ?? 1;
  let row = chunk.firstRow;
  let rest = '';
  let batch = emptyBatch();
  const takeLine = (raw: string): void => {
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const current = line++;
    if (text.trim() === '') return;
    const index = row++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      batch.bad.push({ row: index, line: current, reason: `not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      batch.bad.push({ row: index, line: current, reason: 'expected a JSON object' });
      return;
    }
    const object = parsed as Record<string, unknown>;
    batch.records.push(columns.map((name) => object[name]));
    batch.rows.push(index);
    batch.lines.push(current);
  };
  for await (const text of textOf(options)) {
    const parts = (rest + text).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) takeLine(part);
    if (batch.records.length + batch.bad.length >= batchRows) {
      yield batch;
      batch = emptyBatch();
    }
  }
  if (rest !== '') takeLine(rest);
  if (batch.records.length + batch.bad.length > 0) yield batch;
}

async function* readParquetChunk(options: ReadChunkOptions): AsyncGenerator<RowBatch> {
  const { source, chunk, batchRows, columns } = options;
  for (const name of columns) columnIndex(source, name);
  let row = chunk.firstRow;
  let batch = emptyBatch();
  for await (const records of readParquetRange({
    path: source.path,
    from: chunk.firstRow,
    to: chunk.firstRow + chunk.rows,
    columns,
  })) {
    options.signal?.throwIfAborted();
    for (const record of records) {
      batch.records.push(record);
      batch.rows.push(row++);
      batch.lines.push(0);
    }
    if (batch.records.length >= batchRows) {
      yield batch;
      batch = emptyBatch();
    }
  }
  if (batch.records.length > 0) yield batch;
}

function columnIndex(source: PlannedSource, name: string): number {
  const index = source.columns.indexOf(name);
  if (index === -1 && source.kind !== 'jsonl') {
    throw new StratumError(
      'BAD_REQUEST',
      `${source.path}: no column "${name}" (columns: ${source.columns.join(', ')})`,
      { details: { file: source.path, column: name } },
    );
  }
  return index;
}
