/**
 * A fast reader of numeric CSV files into float32 feature batches: bytes are parsed straight into
 * row-major Float32Arrays, with no object per row and no string per field (csvDataset builds
 * both, which costs most of its time). Values are those csvDataset reads (`Number()` on the
 * field's text, rounded to float32), an empty field is NaN (missing), and errors name the file,
 * the line and the column as csvDataset's do. Unlike csvDataset, a quoted field
 * may not span lines (an error) and every selected column must be numeric.
 *
 * With `workers > 1` the file is cut into byte ranges at line breaks, parsed on worker threads and
 * reassembled in file order. Cutting at line breaks is only safe when no quoted field spans lines,
 * so as soon as a range holds a quote character the rest of the file is read on the main thread.
 * Starting a worker under tsx costs about 0.4 s of CPU, so workers only pay off on large files
 * with spare cores; the calling thread parses until they are up.
 */
import type { FileHandle } from 'node:fs/promises';
import { StratumError } from '../errors/index.ts';
import { cellDetails, describeCell, typeMismatch } from './column-schema.ts';
import { readCsvHeader } from './csv-matrix-header.ts';
import { CsvMatrixPool } from './csv-matrix-pool.ts';
import type { RangeResponse } from './csv-matrix-protocol.ts';
import { type MatrixFailure, type MatrixLayout, parseRecords } from './csv-matrix-records.ts';
import { MatrixAccumulator, type ReadProgress } from './csv-matrix-accumulator.ts';
import { BatchSink, type RowSink } from './csv-matrix-sink.ts';
import { Dataset } from './dataset.ts';
import { openFile } from './file-stream.ts';
import { lineNumberAt } from './line-number.ts';

/** Rows of a numeric CSV as one row-major float32 array. */
export interface FloatBatch {
  /** `rows × columns.length` values, row by row; NaN where a field was empty. */
  readonly data: Float32Array;
  readonly rows: number;
  /** The column of each position in a row. */
  readonly columns: readonly string[];
}

/** Options of {@link csvMatrixBatches} and {@link readCsvMatrix}. */
export interface CsvMatrixOptions {
  /**
   * The columns to read, in this order, by header name; other columns are skipped without being
   * parsed (they may hold text).
   * @default every column of the header
   */
  readonly columns?: readonly string[];
  /**
   * Rows per batch (the last batch may be shorter).
   * @default 8192
   */
  readonly batchRows?: number;
  /**
   * Threads parsing the file: 1 parses on the calling thread; more start that many worker threads
   * for the iteration, each parsing byte ranges of the file. Files under `workers × 4` ranges, and
   * the rest of a file from the first range holding a quote character, are read on the calling
   * thread (see also `parseWhileStarting`).
   * @default 1
   */
  readonly workers?: number;
  /**
   * The field separator, one ASCII character.
   * @default ','
   */
  readonly delimiter?: string;
  /**
   * Bytes per range handed to a worker. At most `workers × 2` ranges are parsed ahead of the
   * consumer, which bounds memory.
   * @default 4 MiB
   */
  readonly workerRangeBytes?: number;
  /**
   * With workers, parse on the calling thread (in ranges of `workerRangeBytes`) until the workers
   * have started, which takes a few hundred milliseconds; `false` leaves every range to them.
   * @default true
   */
  readonly parseWhileStarting?: boolean;
}

/** The options once checked, with their defaults. */
interface ResolvedOptions {
  readonly columns: readonly string[] | undefined;
  readonly batchRows: number;
  readonly workers: number;
  readonly delimiter: string;
  readonly workerRangeBytes: number;
  readonly parseWhileStarting: boolean;
}

/** What one iteration reads with. */
interface ReadContext {
  readonly path: string;
  readonly file: FileHandle;
  readonly names: readonly string[];
  readonly layout: MatrixLayout;
  readonly columns: readonly string[];
  readonly sink: RowSink;
  /** Where the data (after the header) starts. */
  readonly dataStart: number;
  /** For the size estimate of a whole-file matrix. */
  readonly progress: ReadProgress;
  /** Data rows read so far. */
  rows: number;
}

/** Bytes read per chunk on the calling thread. */
const CHUNK_BYTES = 1 << 20;
const LF = 0x0a;
const CR = 0x0d;

function requireInteger(path: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new StratumError('BAD_REQUEST', `${path}: ${name}: expected an integer >= 1, got ${String(value)}`);
  }
}

function resolveOptions(path: string, options: CsvMatrixOptions, defaultBatchRows: number): ResolvedOptions {
  const resolved: ResolvedOptions = {
    columns: options.columns,
    batchRows: options.batchRows ?? defaultBatchRows,
    workers: options.workers ?? 1,
    delimiter: options.delimiter ?? ',',
    workerRangeBytes: options.workerRangeBytes ?? 4 << 20,
    parseWhileStarting: options.parseWhileStarting ?? true,
  };
  requireInteger(path, 'batchRows', resolved.batchRows);
  requireInteger(path, 'workers', resolved.workers);
  requireInteger(path, 'workerRangeBytes', resolved.workerRangeBytes);
  const { delimiter, columns } = resolved;
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f || '"\r\n'.includes(delimiter)) {
    throw new StratumError(
      'BAD_REQUEST',
      `${path}: delimiter: expected one ASCII character other than a quote or newline, got ${JSON.stringify(delimiter)}`,
    );
  }
  if (columns !== undefined) {
    if (columns.length === 0) throw new StratumError('BAD_REQUEST', `${path}: columns: expected at least one name`);
    const twice = columns.find((name, index) => columns.indexOf(name) !== index);
    if (twice !== undefined) throw new StratumError('BAD_REQUEST', `${path}: columns: "${twice}" is named twice`);
  }
  return resolved;
}

function planLayout(
  path: string,
  names: readonly string[],
  options: ResolvedOptions,
): MatrixLayout & { columns: readonly string[] } {
  const columns = Object.freeze([...(options.columns ?? names)]);
  const missing = columns.filter((name) => !names.includes(name));
  if (missing.length > 0) {
    const list = missing.map((name) => `"${name}"`).join(', ');
    throw new StratumError(
      'BAD_REQUEST',
      `${path}: ${missing.length === 1 ? 'column' : 'columns'} ${list} requested but missing from the header (columns: ${names.join(', ')})`,
      { details: { file: path, missing } },
    );
  }
  const targets = new Int32Array(names.length).fill(-1);
  columns.forEach((name, index) => (targets[names.indexOf(name)] = index));
  return {
    delimiter: options.delimiter.charCodeAt(0),
    fieldCount: names.length,
    targets,
    width: columns.length,
    columns,
  };
}

/** The error for a record's failure, naming the record's line in the file (read again up to it). */
async function failureError(context: ReadContext, failure: MatrixFailure): Promise<StratumError> {
  const { path, names } = context;
  const line = await lineNumberAt(context.file, failure.at);
  if (failure.kind === 'fields') {
    return new StratumError(
      'BAD_REQUEST',
      `${path}: line ${line} has ${failure.fields} fields, the header has ${names.length}`,
      { details: { file: path, line, fields: failure.fields, expected: names.length } },
    );
  }
  const location = { label: path, line, column: names[failure.field] ?? '', columnNumber: failure.field + 1 };
  if (failure.kind === 'value') return typeMismatch(location, 'a number', failure.text);
  const problem =
    failure.kind === 'range'
      ? `${failure.text} is beyond the range of a 32-bit float (±3.4e38), which training reads`
      : failure.kind === 'multiline'
        ? 'a quoted field is not closed on its line (the numeric reader does not take line breaks in quotes; csvDataset does)'
        : `unexpected ${JSON.stringify(failure.text)} after a closing quote (a quote inside a quoted field is written "")`;
  return new StratumError('BAD_REQUEST', `${describeCell(location)}: ${problem}`, { details: cellDetails(location) });
}

function toBatch(context: ReadContext, data: Float32Array): FloatBatch {
  return { data, rows: data.length / context.columns.length, columns: context.columns };
}

function* takeFull(context: ReadContext): Generator<FloatBatch> {
  for (const data of context.sink.takeFull()) yield toBatch(context, data);
}

/** Reads from `position` into `bytes` after its first `offset` bytes; resolves with the bytes read. */
async function readInto(
  file: FileHandle,
  target: { bytes: Buffer; offset: number; position: number },
): Promise<number> {
  const { bytes, offset, position } = target;
  const { bytesRead } = await file.read(bytes, offset, bytes.length - offset, position);
  return bytesRead;
}

async function parseInto(context: ReadContext, input: { bytes: Buffer; end: number; offset: number }): Promise<void> {
  const result = parseRecords({ ...input, start: 0 }, context.layout, context.sink);
  if (result.failure !== undefined) throw await failureError(context, result.failure);
  context.rows += result.rows;
}

/** Where {@link readOnThread} starts, and when it stops before the end. */
interface ThreadRead {
  /** The file offset of a record's start. */
  readonly position: number;
  /** Asked after each chunk: true stops the reading (the generator returns where it stopped). */
  readonly stop?: () => boolean;
  /** @default CHUNK_BYTES */
  readonly chunkBytes?: number;
}

/**
 * Reads the records from byte `position` to the end on the calling thread, a chunk at a time, in
 * two buffers used in turn: the next chunk is read into one while the other is parsed. Returns
 * undefined at the end of the file, or the offset of the first record not read when `stop` said so.
 */
async function* readOnThread(context: ReadContext, read: ThreadRead): AsyncGenerator<FloatBatch, number | undefined> {
  let { position } = read;
  const chunkBytes = read.chunkBytes ?? CHUNK_BYTES;
  let current = Buffer.allocUnsafe(chunkBytes);
  let spare = Buffer.allocUnsafe(chunkBytes);
  // Bytes at the start of `current` carried over from the previous chunk: an incomplete record.
  let carried = 0;
  // The file offset of current[0].
  let bufferStart = position;
  let pending = readInto(context.file, { bytes: current, offset: 0, position });
  try {
    for (;;) {
      const count = await pending;
      if (count === 0) {
        if (carried > 0) await parseInto(context, { bytes: current, end: carried, offset: bufferStart });
        return undefined;
      }
      position += count;
      const filled = carried + count;
      // Complete records only: a record ends at its first line break (see csv-matrix-records.ts).
      const end = Math.max(current.lastIndexOf(LF, filled - 1), current.lastIndexOf(CR, filled - 1)) + 1;
      const rest = filled - end;
      // A line longer than half a buffer: grow, so that the next read has room.
      if (rest > spare.length / 2) spare = Buffer.allocUnsafe(Math.max(spare.length, rest) * 2);
      current.copy(spare, 0, end, filled);
      pending = readInto(context.file, { bytes: spare, offset: rest, position });
      // Awaited at the top of the loop or in `finally`; until then a rejection must not count as unhandled.
      pending.catch(() => undefined);
      context.progress.bytesBefore = bufferStart - context.dataStart;
      context.progress.rowsBefore = context.rows;
      if (end > 0) await parseInto(context, { bytes: current, end, offset: bufferStart });
      [current, spare] = [spare, current];
      carried = rest;
      bufferStart += end;
      yield* takeFull(context);
      if (read.stop?.() === true) return bufferStart;
    }
  } finally {
    // The file is closed after this; a read in flight must finish first.
    await pending.catch(() => undefined);
  }
}

/** Reads the records from `dataStart` on worker threads, in ranges, emitting rows in file order. */
async function* readInWorkers(
  context: ReadContext,
  range: { dataStart: number; size: number; options: ResolvedOptions },
): AsyncGenerator<FloatBatch> {
  const { size, options } = range;
  const pool = new CsvMatrixPool({ size: options.workers, data: { path: context.path, layout: context.layout } });
  let dataStart = range.dataStart;
  const out: Promise<RangeResponse>[] = [];
  // Arrays the workers sent, copied out already: sent back to be filled again, since touching
  // fresh memory costs about as much as parsing into it.
  const recycled: ArrayBuffer[] = [];
  try {
    if (options.parseWhileStarting) {
      // Starting a worker takes a few hundred milliseconds: the calling thread reads until they are up.
      const stop = () => pool.ready;
      const stopped = yield* readOnThread(context, { position: dataStart, stop, chunkBytes: options.workerRangeBytes });
      if (stopped === undefined) return;
      dataStart = stopped;
    }
    let next = dataStart;
    for (;;) {
      while (out.length < options.workers * 2 && next < size) {
        const end = Math.min(next + options.workerRangeBytes, size);
        const response = pool.parse({ start: next, end, aligned: next === dataStart }, recycled.pop());
        // Awaited in order below; until then a rejection must not count as unhandled.
        response.catch(() => undefined);
        out.push(response);
        next = end;
      }
      const first = out.shift();
      if (first === undefined) return;
      const response = await first;
      switch (response.kind) {
        case 'quoted':
          // Ranges before this one held no quote, so this range starts at a true record boundary.
          await pool.close();
          yield* readOnThread(context, { position: response.start });
          return;
        case 'failure':
          throw await failureError(context, response.failure);
        case 'error':
          throw new StratumError('INTERNAL', `${context.path}: a csv worker failed: ${response.message}`);
        case 'rows':
          context.progress.bytesBefore = response.start - context.dataStart;
          context.progress.rowsBefore = context.rows;
          context.sink.append(response.data, response.rows);
          context.rows += response.rows;
          recycled.push(response.data.buffer as ArrayBuffer);
          yield* takeFull(context);
      }
    }
  } finally {
    await pool.close();
  }
}

/** Reads the file into batches, or into one matrix (`whole`), given as a single batch. */
async function* readBatches(read: {
  path: string;
  options: ResolvedOptions;
  whole: boolean;
}): AsyncGenerator<FloatBatch> {
  const { path, options } = read;
  const file = await openFile(path);
  try {
    const header = await readCsvHeader(file, { path, delimiter: options.delimiter });
    const layout = planLayout(path, header.names, options);
    const { size } = await file.stat();
    const progress: ReadProgress = { bytesBefore: 0, rowsBefore: 0, totalBytes: size - header.dataStart };
    const sink = read.whole
      ? new MatrixAccumulator({ width: layout.width, progress })
      : new BatchSink({ batchRows: options.batchRows, width: layout.width });
    const { names, dataStart } = header;
    const context: ReadContext = {
      path,
      file,
      names,
      layout,
      columns: layout.columns,
      sink,
      dataStart,
      progress,
      rows: 0,
    };
    // Below a few ranges per worker, starting the workers costs more than they save.
    if (options.workers > 1 && size - header.dataStart > options.workers * 4 * options.workerRangeBytes) {
      yield* readInWorkers(context, { dataStart: header.dataStart, size, options });
    } else {
      yield* readOnThread(context, { position: header.dataStart });
    }
    yield* takeFull(context);
    const rest = sink.takeRest();
    if (rest !== undefined) yield toBatch(context, rest.data);
    if (context.rows === 0) throw new StratumError('BAD_REQUEST', `${path}: the dataset is empty (no data rows)`);
  } finally {
    await file.close();
  }
}

/**
 * The rows of the numeric CSV file at `path` as float32 batches of `batchRows` rows, streamed:
 * memory holds a chunk or, with workers, `workers × 2` ranges, whatever the file's size. Nothing
 * is read until the dataset is iterated; each iteration reads the file again, and worker threads
 * live for one iteration (ended, left early or failed).
 *
 * @example
 * ```ts
 * for await (const batch of csvMatrixBatches('features.csv', { columns: ['x1', 'x2'], workers: 2 })) {
 *   train(batch.data, batch.rows); // batch.data[r * 2 + c]
 * }
 * ```
 */
export function csvMatrixBatches(path: string, options: CsvMatrixOptions = {}): Dataset<FloatBatch> {
  const resolved = resolveOptions(path, options, 8192);
  return new Dataset(() => readBatches({ path, options: resolved, whole: false }));
}

/**
 * The whole numeric CSV file at `path` as one row-major float32 matrix (see {@link csvMatrixBatches};
 * `batchRows` does not apply). `data` may be a view of a slightly longer buffer: its size is
 * estimated while reading, and trimming would copy every value again.
 */
export async function readCsvMatrix(path: string, options: CsvMatrixOptions = {}): Promise<FloatBatch> {
  const resolved = resolveOptions(path, options, 8192);
  for await (const matrix of readBatches({ path, options: resolved, whole: true })) return matrix;
  throw new StratumError('INTERNAL', `${path}: readCsvMatrix: the reader gave no matrix`);
}
