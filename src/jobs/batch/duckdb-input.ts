/**
 * The DuckDB side of a batch: a Parquet input's row count and columns, a SQL input snapshotted
 * once into a Parquet file (so its chunks are stable row ranges however the query would order its
 * rows on a second run), and the rows of one chunk read by `file_row_number`.
 */
import { rename, rm } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { planDuckDbColumns } from '../../data/duckdb-values.ts';
import { StratumError } from '../../errors/index.ts';

/** Runs `fn` on a fresh in-memory database, closed afterwards. */
export async function withDuckDb<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** A DuckDB failure as BAD_REQUEST naming the source, without the echo of the query. */
export function duckDbError(label: string, error: unknown): StratumError {
  if (error instanceof StratumError) return error;
  const reason = (error instanceof Error ? error.message : String(error)).split('\n\n')[0]?.trim();
  return new StratumError('BAD_REQUEST', `${label}: DuckDB cannot read it: ${reason}`, {
    cause: error,
    details: { source: label },
  });
}

/** A Parquet file's row count and column names. */
export async function describeParquet(path: string): Promise<{ rows: number; columns: string[] }> {
  return withDuckDb(async (connection) => {
    try {
      const count = await connection.runAndReadAll('select count(*) from read_parquet($1)', [path]);
      const rows = Number(count.getRows()[0]?.[0] ?? 0);
      const head = await connection.runAndReadAll('select * from read_parquet($1) limit 0', [path]);
      return { rows, columns: head.deduplicatedColumnNames() };
    } catch (error) {
      throw duckDbError(path, error);
    }
  });
}

/** Runs `sql` once and writes its rows, in the order it returns them, to the Parquet file `target`. */
export async function snapshotSql(options: { sql: string; target: string }): Promise<void> {
  const temporary = `${options.target}.tmp`;
  const label = `SQL "${options.sql.replace(/\s+/g, ' ').trim().slice(0, 97)}"`;
  try {
    await withDuckDb(async (connection) => {
      try {
        await connection.run(`copy (${options.sql}) to '${temporary.replaceAll("'", "''")}' (format parquet)`);
      } catch (error) {
        throw duckDbError(label, error);
      }
    });
    await rename(temporary, options.target);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Rows `[from, to)` of a Parquet file as arrays of plain JS values (column order of `columns`). */
export async function* readParquetRange(options: {
  path: string;
  from: number;
  to: number;
  columns: readonly string[];
}): AsyncGenerator<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const projection = options.columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
    let result;
    try {
      result = await connection.stream(
        // No ORDER BY: DuckDB keeps the file's order (preserve_insertion_order), and sorting doubled the cost.
        `select ${projection} from read_parquet($1, file_row_number = true)
         where file_row_number >= $2 and file_row_number < $3`,
        [options.path, options.from, options.to] as DuckDBValue[],
      );
    } catch (error) {
      throw duckDbError(options.path, error);
    }
    const plan = planDuckDbColumns(result, options.path);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) return;
      const rows = chunk.rowCount;
      const out: unknown[][] = Array.from({ length: rows }, () => new Array<unknown>(plan.length));
      plan.forEach((column, c) => {
        const vector: DuckDBVector = chunk.getColumnVector(c);
        for (let r = 0; r < rows; r++) {
          const value = vector.getItem(r);
          (out[r] as unknown[])[c] = value === null ? null : column.convert(value);
        }
      });
      yield out;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
