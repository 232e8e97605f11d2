/**
 * Streams a CSV file as a dataset of rows. The file is read in chunks and parsed incrementally, so
 * memory does not grow with the file. Column types are declared (`schema`, or `types` for some
 * columns) or inferred from the first rows. Errors name the file, the line and the column:
 * lines are the file's own, as an editor numbers them (the header is line 1, blank lines and the
 * lines inside quoted fields count), and a column by its 1-based position and its name.
 */
import type { ReadStream } from 'node:fs';
import { StratumError } from '../errors/index.ts';
import {
  type CellValue,
  type ColumnSchema,
  type ColumnType,
  type LineRow,
  type RowOf,
  convertText,
  describeType,
  parseNumber,
  typeMismatch,
  validateSchema,
} from './column-schema.ts';
import { CsvParser } from './csv-parser.ts';
import { Dataset } from './dataset.ts';
import { openTextStream } from './file-stream.ts';

/** A row of a CSV read without a declared schema. */
export type CsvRow = Record<string, CellValue>;

/** Options of {@link csvDataset}. */
export interface CsvDatasetOptions {
  /**
   * Column types. Declared columns must be in the header; other columns are left out of the rows.
   * Without a schema every column is kept and typed by inference (see `inferRows`).
   */
  readonly schema?: ColumnSchema;
  /**
   * Without a schema: the types of some columns, which are then not inferred (a cell that is not of
   * its type is an error naming its line and column); every other column is kept and inferred.
   * Named columns must be in the header. Not allowed with `schema`.
   * @default every column inferred
   */
  readonly types?: ColumnSchema;
  /**
   * The field separator.
   * @default ','
   */
  readonly delimiter?: string;
  /**
   * `true`: the first record names the columns. `false`: there is no header and the columns are
   * named `column1`, `column2`, …. An array: there is no header and these are the names.
   * @default true
   */
  readonly header?: boolean | readonly string[];
  /**
   * Without a schema, how many leading rows decide each column's type: `number` when every
   * non-empty value parses as a number, otherwise `string`. Those rows are held in memory.
   * @default 1000
   */
  readonly inferRows?: number;
  /** Called after every chunk with the bytes read so far (progress reporting). */
  readonly onProgress?: (bytesRead: number) => void;
}

interface ColumnPlan {
  readonly name: string;
  readonly index: number;
  readonly type: ColumnType;
  readonly inferred: boolean;
}

/**
 * A dataset of the rows of the CSV file at `path`, streamed. Nothing is read until it is iterated;
 * each iteration reads the file again.
 *
 * @example
 * ```ts
 * const flights = csvDataset('flights.csv', { schema: { origin: 'string', delay: 'number' } });
 * for await (const batch of flights.batch(1024)) console.log(batch.length);
 * ```
 */
export function csvDataset<const S extends ColumnSchema>(
  path: string,
  options: CsvDatasetOptions & { readonly schema: S },
): Dataset<RowOf<S>>;
export function csvDataset(path: string, options?: CsvDatasetOptions): Dataset<CsvRow>;
export function csvDataset(path: string, options: CsvDatasetOptions = {}): Dataset<CsvRow> {
  const checked = checkOptions(path, options);
  return new Dataset(() => readCsv({ path, options: checked, emit: (row) => row }));
}

/**
 * {@link csvDataset}, each row with the line of the file it starts on, for callers that check the
 * rows further and name the line in their own messages (the training reader does).
 *
 * @example
 * ```ts
 * for await (const { row, line } of csvDatasetWithLines('people.csv', { types: { age: 'number' } })) {
 *   if (row.age === null) throw new Error(`people.csv: line ${line}: no age`);
 * }
 * ```
 */
export function csvDatasetWithLines(path: string, options: CsvDatasetOptions = {}): Dataset<LineRow<CsvRow>> {
  const checked = checkOptions(path, options);
  return new Dataset(() => readCsv({ path, options: checked, emit: (row, line) => ({ row, line }) }));
}

type CheckedOptions = CsvDatasetOptions & { inferRows: number };

function checkOptions(path: string, options: CsvDatasetOptions): CheckedOptions {
  if (options.schema !== undefined) validateSchema(options.schema, path);
  if (options.types !== undefined) {
    if (options.schema !== undefined) {
      throw new StratumError('BAD_REQUEST', `${path}: types: not allowed with a schema (declare every type there)`);
    }
    validateSchema(options.types, path);
  }
  const inferRows = options.inferRows ?? 1000;
  if (!Number.isSafeInteger(inferRows) || inferRows < 1) {
    throw new StratumError('BAD_REQUEST', `${path}: inferRows: expected an integer >= 1, got ${String(inferRows)}`);
  }
  // Validate the delimiter now rather than on first iteration.
  new CsvParser({ label: path, ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }) });
  return { ...options, inferRows };
}

/** The line the record last yielded by {@link readRecords} starts on. */
interface RecordCursor {
  line: number;
}

async function* readRecords(read: {
  stream: ReadStream;
  parser: CsvParser;
  cursor: RecordCursor;
  onProgress: ((bytesRead: number) => void) | undefined;
}): AsyncGenerator<string[]> {
  const { stream, parser, cursor } = read;
  let first = true;
  const yieldAll = function* (records: string[][]): Generator<string[]> {
    const lines = parser.lines;
    for (let k = 0; k < records.length; k++) {
      cursor.line = lines[k] as number;
      yield records[k] as string[];
    }
  };
  for await (const value of stream) {
    let chunk = value as string;
    if (first) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const records = parser.push(chunk);
    read.onProgress?.(stream.bytesRead);
    yield* yieldAll(records);
  }
  yield* yieldAll(parser.end());
}

/** The header's names, or the column names given instead; the first record is kept when it is data. */
async function readColumns(
  path: string,
  read: { header: boolean | readonly string[]; records: AsyncGenerator<string[]>; cursor: RecordCursor },
): Promise<{ columns: readonly string[]; first?: { record: string[]; line: number } }> {
  const { header, records, cursor } = read;
  let columns: readonly string[];
  let first: { record: string[]; line: number } | undefined;
  if (header === true) {
    const next = await records.next();
    if (next.done === true) throw new StratumError('BAD_REQUEST', `${path}: the file is empty (expected a header row)`);
    columns = next.value;
  } else if (header === false) {
    const next = await records.next();
    if (next.done === true) throw new StratumError('BAD_REQUEST', `${path}: the file is empty (no rows)`);
    first = { record: next.value, line: cursor.line };
    columns = next.value.map((_, i) => `column${i + 1}`);
  } else {
    columns = header;
  }
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name)) throw new StratumError('BAD_REQUEST', `${path}: the header names column "${name}" twice`);
    seen.add(name);
  }
  return first === undefined ? { columns } : { columns, first };
}

function planDeclared(
  path: string,
  declared: { schema: ColumnSchema; what: string; columns: readonly string[]; headerName: string },
): Map<string, number> {
  const { schema, what, columns, headerName } = declared;
  const indices = new Map<string, number>();
  for (const name of Object.keys(schema)) {
    const index = columns.indexOf(name);
    if (index === -1) {
      throw new StratumError(
        'BAD_REQUEST',
        `${path}: column "${name}" is declared in the ${what} but missing from ${headerName} (columns: ${columns.join(', ')})`,
        { details: { file: path, column: name } },
      );
    }
    indices.set(name, index);
  }
  return indices;
}

async function* readCsv<T>(read: {
  path: string;
  options: CheckedOptions;
  emit: (row: CsvRow, line: number) => T;
}): AsyncGenerator<T> {
  const { path, options, emit } = read;
  const header = options.header ?? true;
  const stream = await openTextStream(path);
  try {
    const parser = new CsvParser({
      label: path,
      ...(header !== false && { columnNames: header === true ? 'first-record' : header }),
      ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
    });
    const cursor: RecordCursor = { line: 0 };
    const records = readRecords({ stream, parser, cursor, onProgress: options.onProgress });
    const { columns, first } = await readColumns(path, { header, records, cursor });
    const headerName = header === false ? 'the first row' : 'the header';
    const pending: string[][] = first === undefined ? [] : [first.record];
    const pendingLines: number[] = first === undefined ? [] : [first.line];

    let plan: readonly ColumnPlan[];
    if (options.schema !== undefined) {
      const indices = planDeclared(path, { schema: options.schema, what: 'schema', columns, headerName });
      plan = Object.entries(options.schema).map(([name, type]) => ({
        name,
        index: indices.get(name) as number,
        type,
        inferred: false,
      }));
    } else {
      const types = options.types ?? {};
      planDeclared(path, { schema: types, what: 'types', columns, headerName });
      while (pending.length < options.inferRows) {
        const next = await records.next();
        if (next.done === true) break;
        pending.push(next.value);
        pendingLines.push(cursor.line);
      }
      plan = columns.map((name, index) => {
        const type = types[name];
        return type === undefined
          ? { name, index, type: inferType(pending, index), inferred: true }
          : { name, index, type, inferred: false };
      });
    }

    let rows = 0;
    const toRow = (record: readonly string[], line: number): CsvRow => {
      rows++;
      if (record.length !== columns.length) {
        throw new StratumError(
          'BAD_REQUEST',
          `${path}: line ${line} has ${record.length} fields, ${headerName} has ${columns.length}`,
          { details: { file: path, line, fields: record.length, expected: columns.length } },
        );
      }
      const out: CsvRow = {};
      for (const column of plan) {
        const text = record[column.index] as string;
        const value = convertText(text, column.type);
        if (value === undefined) {
          const expected = describeType(column.type);
          throw typeMismatch(
            { label: path, line, column: column.name, columnNumber: column.index + 1 },
            column.inferred ? `${expected} (inferred from the first ${options.inferRows} rows)` : expected,
            text,
          );
        }
        out[column.name] = value;
      }
      return out;
    };

    for (let k = 0; k < pending.length; k++) {
      const line = pendingLines[k] as number;
      yield emit(toRow(pending[k] as string[], line), line);
    }
    pending.length = 0;
    for await (const record of records) yield emit(toRow(record, cursor.line), cursor.line);
    if (rows === 0) throw new StratumError('BAD_REQUEST', `${path}: the dataset is empty (no data rows)`);
  } finally {
    stream.destroy();
  }
}

function inferType(records: readonly (readonly string[])[], index: number): ColumnType {
  let sawValue = false;
  for (const record of records) {
    const text = record[index];
    if (text === undefined || text === '') continue;
    if (parseNumber(text) === undefined) return 'string';
    sawValue = true;
  }
  return sawValue ? 'number' : 'string';
}
