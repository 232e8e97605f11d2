/**
 * Streams a CSV file as a dataset of rows. The file is read in chunks and parsed incrementally, so
 * memory does not grow with the file. Column types are declared (`schema`) or inferred from the
 * first rows. Errors name the file, the row and the column; rows are numbered from 1 counting data
 * rows only (the header is not a row), so `row 1` is the first line after the header.
 */
import type { ReadStream } from 'node:fs';
import { StratumError } from '../errors/index.ts';
import {
  type CellValue,
  type ColumnSchema,
  type ColumnType,
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
  if (options.schema !== undefined) validateSchema(options.schema, path);
  const inferRows = options.inferRows ?? 1000;
  if (!Number.isSafeInteger(inferRows) || inferRows < 1) {
    throw new StratumError('BAD_REQUEST', `${path}: inferRows: expected an integer >= 1, got ${String(inferRows)}`);
  }
  // Validate the delimiter now rather than on first iteration.
  new CsvParser({ label: path, ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }) });
  return new Dataset(() => readCsv(path, { ...options, inferRows }));
}

async function* readRecords(
  stream: ReadStream,
  parser: CsvParser,
  options: CsvDatasetOptions,
): AsyncGenerator<string[]> {
  let first = true;
  for await (const value of stream) {
    let chunk = value as string;
    if (first) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const records = parser.push(chunk);
    options.onProgress?.(stream.bytesRead);
    yield* records;
  }
  yield* parser.end();
}

async function* readCsv(path: string, options: CsvDatasetOptions & { inferRows: number }): AsyncGenerator<CsvRow> {
  const header = options.header ?? true;
  const stream = await openTextStream(path);
  try {
    const parser = new CsvParser({
      label: path,
      describeRecord: (index) => (header === true ? (index === 0 ? 'the header' : `row ${index}`) : `row ${index + 1}`),
      ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
    });
    const records = readRecords(stream, parser, options);
    const pending: string[][] = [];
    let columns: readonly string[];
    if (header === true) {
      const first = await records.next();
      if (first.done === true)
        throw new StratumError('BAD_REQUEST', `${path}: the file is empty (expected a header row)`);
      columns = first.value;
    } else if (header === false) {
      const first = await records.next();
      if (first.done === true) throw new StratumError('BAD_REQUEST', `${path}: the file is empty (no rows)`);
      pending.push(first.value);
      columns = first.value.map((_, i) => `column${i + 1}`);
    } else {
      columns = header;
    }
    const seen = new Set<string>();
    for (const name of columns) {
      if (seen.has(name)) throw new StratumError('BAD_REQUEST', `${path}: the header names column "${name}" twice`);
      seen.add(name);
    }
    const headerName = header === false ? 'the first row' : 'the header';

    let plan: readonly ColumnPlan[];
    if (options.schema !== undefined) {
      plan = Object.entries(options.schema).map(([name, type]) => {
        const index = columns.indexOf(name);
        if (index === -1) {
          throw new StratumError(
            'BAD_REQUEST',
            `${path}: column "${name}" is declared in the schema but missing from ${headerName} (columns: ${columns.join(', ')})`,
            { details: { file: path, column: name } },
          );
        }
        return { name, index, type, inferred: false };
      });
    } else {
      while (pending.length < options.inferRows) {
        const next = await records.next();
        if (next.done === true) break;
        pending.push(next.value);
      }
      plan = columns.map((name, index) => ({ name, index, type: inferType(pending, index), inferred: true }));
    }

    let row = 0;
    const toRow = (record: readonly string[]): CsvRow => {
      row++;
      if (record.length !== columns.length) {
        throw new StratumError(
          'BAD_REQUEST',
          `${path}: row ${row} has ${record.length} fields, ${headerName} has ${columns.length}`,
          { details: { file: path, row, fields: record.length, expected: columns.length } },
        );
      }
      const out: CsvRow = {};
      for (const column of plan) {
        const text = record[column.index] as string;
        const value = convertText(text, column.type);
        if (value === undefined) {
          const expected = describeType(column.type);
          throw typeMismatch(
            { label: path, position: `row ${row}`, column: column.name },
            column.inferred ? `${expected} (inferred from the first ${options.inferRows} rows)` : expected,
            text,
          );
        }
        out[column.name] = value;
      }
      return out;
    };

    for (const record of pending) yield toRow(record);
    pending.length = 0;
    for await (const record of records) yield toRow(record);
    if (row === 0) throw new StratumError('BAD_REQUEST', `${path}: the dataset is empty (no data rows)`);
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
