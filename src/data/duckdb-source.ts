/**
 * Datasets backed by DuckDB (in process, offline): the rows of a Parquet file or of any SQL query
 * (over CSV, Parquet or JSON files through `read_csv`, `read_parquet`, …). Results are streamed a
 * DuckDB vector (2,048 rows) at a time, so memory stays bounded whatever the size of the data.
 * Each iteration opens its own in-memory database and closes it when the iteration ends, early
 * or not. Values are plain JS (see `table-row.ts`): dates and timestamps become epoch milliseconds.
 *
 * For trainers that need whole columns, `sqlColumns` / `parquetColumns` read into `Float64Array`s
 * (strings into arrays, equal strings sharing one copy): about as fast as streaming rows, but 8
 * bytes per number instead of an object per row, and typed arrays are what trainers compute on.
 *
 * DuckDB's vector size (2,048 rows) is the chunk: re-buffering it into other batch sizes would cost
 * a copy and bound nothing more, so there is no `batchRows` option here (`batch()` the dataset).
 */
import { stat } from 'node:fs/promises';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResult,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import { StratumError } from '../errors/index.ts';
import type { ColumnType } from './column-schema.ts';
import { Dataset } from './dataset.ts';
import { type DuckDbColumnPlan, planDuckDbColumns } from './duckdb-values.ts';
import type { ColumnArray, TableColumns, TableRow, TableValue } from './table-row.ts';

/** A positional query parameter (`$1`, `$2`, … or `?`). */
export type SqlParam = number | bigint | string | boolean | null;

/** Options of {@link sqlDataset} and {@link sqlColumns}. */
export interface SqlDatasetOptions {
  /**
   * Values of the query's positional parameters, in order.
   * @default []
   */
  readonly params?: readonly SqlParam[];
}

/** Options of {@link parquetDataset} and {@link parquetColumns}. */
export interface ParquetDatasetOptions {
  /**
   * The columns to read, in this order (Parquet reads only these from disk).
   * @default every column
   */
  readonly columns?: readonly string[];
}

interface DuckDbQuery {
  /** Names the source in messages: the file, or the query shortened. */
  readonly label: string;
  readonly sql: string;
  readonly params: readonly SqlParam[];
  /** Checked before the query runs (a missing file is NOT_FOUND, as for the other file sources). */
  readonly precheck?: () => Promise<void>;
}

/**
 * A dataset of the rows of `sql`, run by DuckDB on a fresh in-memory database per iteration. Several
 * statements may be given (`;`-separated): all run and the last one's rows are streamed.
 *
 * @example
 * ```ts
 * const late = sqlDataset("select origin, delay from read_csv('flights.csv') where delay > $1", { params: [30] });
 * for await (const row of late.take(5)) console.log(row.origin, row.delay);
 * ```
 */
export function sqlDataset(sql: string, options: SqlDatasetOptions = {}): Dataset<TableRow> {
  const query = sqlQuery(sql, options);
  return new Dataset(() => streamRows(query));
}

/**
 * A dataset of the rows of the Parquet file at `path` (or a glob such as `data/*.parquet`).
 *
 * @example
 * ```ts
 * const flights = parquetDataset('flights-3m.parquet', { columns: ['delay', 'distance'] });
 * console.log(await flights.take(2).toArray()); // [{ delay: 14, distance: 405 }, …]
 * ```
 */
export function parquetDataset(path: string, options: ParquetDatasetOptions = {}): Dataset<TableRow> {
  const query = parquetQuery(path, options);
  return new Dataset(() => streamRows(query));
}

/**
 * Reads every row of `sql` into columns: numbers and dates (epoch ms) as `Float64Array` with NaN for
 * null, strings and booleans as arrays.
 *
 * @example
 * ```ts
 * const table = await sqlColumns("select delay, distance from read_parquet('flights-3m.parquet')");
 * const delay = numberColumn(table, 'delay'); // Float64Array of 3,000,000
 * ```
 */
export function sqlColumns(sql: string, options: SqlDatasetOptions = {}): Promise<TableColumns> {
  return readColumns(sqlQuery(sql, options));
}

/** Reads the Parquet file at `path` into columns (see {@link sqlColumns}); `columns` projects. */
export function parquetColumns(path: string, options: ParquetDatasetOptions = {}): Promise<TableColumns> {
  return readColumns(parquetQuery(path, options));
}

function sqlQuery(sql: string, options: SqlDatasetOptions): DuckDbQuery {
  if (sql.trim() === '') throw new StratumError('BAD_REQUEST', 'sqlDataset: the SQL is empty');
  const compact = sql.replace(/\s+/g, ' ').trim();
  const label = `SQL "${compact.length > 100 ? `${compact.slice(0, 97)}…` : compact}"`;
  return { label, sql, params: options.params ?? [] };
}

function parquetQuery(path: string, options: ParquetDatasetOptions): DuckDbQuery {
  const { columns } = options;
  if (columns !== undefined) {
    if (columns.length === 0) throw new StratumError('BAD_REQUEST', `${path}: columns: expected at least one column`);
    const seen = new Set<string>();
    for (const column of columns) {
      if (seen.has(column)) throw new StratumError('BAD_REQUEST', `${path}: columns: "${column}" is listed twice`);
      seen.add(column);
    }
  }
  const projection = columns === undefined ? '*' : columns.map(quoteIdentifier).join(', ');
  const query = { label: path, sql: `select ${projection} from read_parquet($1)`, params: [path] };
  // A glob is DuckDB's to expand; a plain path that does not exist is NOT_FOUND like csvDataset's.
  return /[*?[{]/.test(path) ? query : { ...query, precheck: () => requireFile(path) };
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function requireFile(path: string): Promise<void> {
  try {
    await stat(path);
  } catch (error) {
    throw new StratumError('NOT_FOUND', `${path}: no such file`, { cause: error, details: { file: path } });
  }
}

/** DuckDB's reason, without the echo of the query that follows a blank line. */
function duckDbFailure(query: DuckDbQuery, error: unknown): StratumError {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n\n')[0]?.trim();
  return new StratumError('BAD_REQUEST', `${query.label}: DuckDB cannot read it: ${reason}`, {
    cause: error,
    details: { source: query.label },
  });
}

/** An open query: its result, the columns' conversions, and `close()` for the database. */
interface OpenQuery {
  readonly result: DuckDBResult;
  readonly plan: readonly DuckDbColumnPlan[];
  close(): void;
}

async function openQuery(query: DuckDbQuery): Promise<OpenQuery> {
  await query.precheck?.();
  const instance = await DuckDBInstance.create(':memory:');
  let connection: DuckDBConnection | undefined;
  const close = (): void => {
    connection?.closeSync();
    instance.closeSync();
  };
  try {
    connection = await instance.connect();
    let result: DuckDBResult;
    try {
      result = await connection.stream(query.sql, query.params as DuckDBValue[]);
    } catch (error) {
      throw duckDbFailure(query, error);
    }
    return { result, plan: planDuckDbColumns(result, query.label), close };
  } catch (error) {
    close();
    throw error;
  }
}

/** One vector per column of a chunk of the result. */
interface Chunk {
  readonly vectors: readonly DuckDBVector[];
  readonly rows: number;
}

/** The non-empty chunks of an open query. */
async function* chunksOf(query: DuckDbQuery, open: OpenQuery): AsyncGenerator<Chunk> {
  for (;;) {
    let chunk;
    try {
      chunk = await open.result.fetchChunk();
    } catch (error) {
      throw duckDbFailure(query, error);
    }
    if (chunk === null || chunk.rowCount === 0) return;
    yield { vectors: open.plan.map((_, index) => chunk.getColumnVector(index)), rows: chunk.rowCount };
  }
}

async function* streamRows(query: DuckDbQuery): AsyncGenerator<TableRow> {
  const open = await openQuery(query);
  try {
    const { plan } = open;
    const names = plan.map((column) => column.name);
    for await (const { vectors, rows } of chunksOf(query, open)) {
      const values = plan.map((column, index) => convertVector(vectors[index] as DuckDBVector, column));
      const batch = new Array<TableRow>(rows);
      for (let row = 0; row < rows; row++) {
        const out: TableRow = {};
        for (let index = 0; index < names.length; index++) {
          out[names[index] as string] = (values[index] as TableValue[])[row] as TableValue;
        }
        batch[row] = out;
      }
      yield* batch;
    }
  } finally {
    open.close();
  }
}

function convertVector(vector: DuckDBVector, column: DuckDbColumnPlan): TableValue[] {
  const count = vector.itemCount;
  const out = new Array<TableValue>(count);
  const { convert } = column;
  for (let i = 0; i < count; i++) {
    const value = vector.getItem(i);
    out[i] = value === null ? null : convert(value);
  }
  return out;
}

/** Accumulates one column of a result. */
interface ColumnBuilder {
  append(vector: DuckDBVector, rows: number): void;
  finish(): ColumnArray;
}

/** Numbers and dates into a `Float64Array` (NaN for null), doubling its capacity as rows arrive. */
function numberBuilder(convert: DuckDbColumnPlan['convert']): ColumnBuilder {
  let values = new Float64Array(65_536);
  let length = 0;
  return {
    append(vector, rows) {
      if (length + rows > values.length) {
        const grown = new Float64Array(Math.max(values.length * 2, length + rows));
        grown.set(values);
        values = grown;
      }
      for (let i = 0; i < rows; i++) {
        const value = vector.getItem(i);
        values[length++] = value === null ? Number.NaN : (convert(value) as number);
      }
    },
    finish: () => values.slice(0, length),
  };
}

/** Distinct strings interned per column; past this many, new ones are kept as decoded. */
const INTERN_LIMIT = 65_536;

/**
 * Strings and booleans into an array. Strings are interned: a categorical column then holds one
 * copy per category, and the decoded duplicates die young instead of filling the old generation
 * (about twice as fast on the flights' origin and destination).
 */
function valueBuilder(convert: DuckDbColumnPlan['convert']): ColumnBuilder {
  const values: (string | boolean | null)[] = [];
  const interned = new Map<string, string>();
  return {
    append(vector, rows) {
      for (let i = 0; i < rows; i++) {
        const raw = vector.getItem(i);
        const value = raw === null ? null : (convert(raw) as string | boolean);
        if (typeof value !== 'string') {
          values.push(value);
          continue;
        }
        const known = interned.get(value);
        if (known === undefined && interned.size < INTERN_LIMIT) interned.set(value, value);
        values.push(known ?? value);
      }
    },
    finish: () => values as ColumnArray,
  };
}

async function readColumns(query: DuckDbQuery): Promise<TableColumns> {
  const open = await openQuery(query);
  try {
    const { plan } = open;
    const builders = plan.map((column) =>
      column.kind === 'number' || column.kind === 'date' ? numberBuilder(column.convert) : valueBuilder(column.convert),
    );
    let rowCount = 0;
    for await (const { vectors, rows } of chunksOf(query, open)) {
      builders.forEach((builder, index) => builder.append(vectors[index] as DuckDBVector, rows));
      rowCount += rows;
    }
    const types: Record<string, ColumnType> = {};
    const columns: Record<string, ColumnArray> = {};
    plan.forEach((column, index) => {
      types[column.name] = column.kind;
      columns[column.name] = (builders[index] as ColumnBuilder).finish();
    });
    return { rowCount, types, columns };
  } finally {
    open.close();
  }
}
