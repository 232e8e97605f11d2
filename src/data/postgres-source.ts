/**
 * Streams the rows of a PostgreSQL query as a dataset through a server-side cursor, so memory
 * holds one batch whatever the size of the result: BEGIN READ ONLY; DECLARE … NO SCROLL CURSOR;
 * FETCH n until empty; CLOSE; COMMIT. Each iteration opens its own connection and closes it when
 * the iteration ends, early (`take`, `break`) or on an error. Values are plain JS as for the other
 * table sources (`table-row.ts`): dates and timestamps become epoch milliseconds (UTC).
 */
import pg from 'pg';
import { StratumError } from '../errors/index.ts';
import { parsePostgresUrl } from '../store/postgres-driver.ts';
import { Dataset } from './dataset.ts';
import { type PostgresConvert, postgresConverter } from './postgres-values.ts';
import type { TableRow } from './table-row.ts';

/** A query parameter, sent to PostgreSQL as text (`pg`'s conversions). */
export type PostgresParam = number | string | boolean | null | Date;

/** Options of {@link postgresDataset}. */
export interface PostgresDatasetOptions {
  /**
   * `postgres://user@host:port/database`, optionally with `?schema=name` (the search path), as
   * Stratum's `databaseUrl`.
   */
  readonly url: string;
  /** A query returning rows (SELECT, VALUES, TABLE, or WITH … SELECT). */
  readonly sql: string;
  /**
   * Values of `$1`, `$2`, … in `sql`.
   * @default []
   */
  readonly params?: readonly PostgresParam[];
  /**
   * Rows fetched per round trip (the memory bound).
   * @default 1000
   */
  readonly batchRows?: number;
}

/** The cursor is private to the connection, opened per iteration, so a fixed name cannot clash. */
const CURSOR = 'stratum_dataset_cursor';

/** Every value arrives as text and is converted by its column's OID (see `postgres-values.ts`). */
const RAW_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;

/**
 * A dataset of the rows of `sql` in the PostgreSQL database at `url`, streamed through a cursor in a
 * read-only transaction.
 *
 * @example
 * ```ts
 * const events = postgresDataset({ url: 'postgres://db/app', sql: 'select * from events where day = $1', params: ['2024-05-01'] });
 * for await (const batch of events.batch(512)) train(batch);
 * ```
 */
export function postgresDataset(options: PostgresDatasetOptions): Dataset<TableRow> {
  const batchRows = options.batchRows ?? 1000;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new StratumError(
      'BAD_REQUEST',
      `postgresDataset: batchRows: expected an integer >= 1, got ${String(batchRows)}`,
    );
  }
  if (options.sql.trim() === '') throw new StratumError('BAD_REQUEST', 'postgresDataset: the SQL is empty');
  const connection = parsePostgresUrl(options.url);
  const compact = options.sql.replace(/\s+/g, ' ').trim();
  const label = `PostgreSQL query "${compact.length > 100 ? `${compact.slice(0, 97)}…` : compact}"`;
  return new Dataset(() =>
    readCursor({ ...options, batchRows, label, clientConfig: connection.clientConfig, database: connection.label }),
  );
}

interface CursorRead extends PostgresDatasetOptions {
  readonly batchRows: number;
  readonly label: string;
  readonly database: string;
  readonly clientConfig: pg.ClientConfig;
}

function failure(read: CursorRead, error: unknown): StratumError {
  if (error instanceof StratumError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const reason = error instanceof pg.DatabaseError ? `${message} (SQLSTATE ${error.code ?? '?'})` : message;
  return new StratumError('BAD_REQUEST', `${read.label} on ${read.database}: ${reason}`, {
    cause: error,
    details: { source: read.label, database: read.database },
  });
}

async function* readCursor(read: CursorRead): AsyncGenerator<TableRow> {
  const client = new pg.Client(read.clientConfig);
  // An error on an idle connection (server restart) would otherwise crash the process.
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
      await client.query('BEGIN TRANSACTION READ ONLY');
      // ISO output in UTC is the one format parseTimestamp reads.
      await client.query("SET LOCAL TIME ZONE 'UTC'");
      await client.query("SET LOCAL DateStyle = 'ISO'");
      await client.query({
        text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${read.sql}`,
        values: [...(read.params ?? [])],
      });
    } catch (error) {
      throw failure(read, error);
    }
    let names: readonly string[] | undefined;
    let converters: readonly PostgresConvert[] = [];
    for (;;) {
      let result: pg.QueryArrayResult<(string | null)[]>;
      try {
        result = await client.query({
          text: `FETCH ${read.batchRows} FROM ${CURSOR}`,
          types: RAW_TEXT,
          rowMode: 'array',
        });
      } catch (error) {
        throw failure(read, error);
      }
      if (names === undefined) {
        names = result.fields.map((field) => field.name);
        converters = result.fields.map((field) =>
          postgresConverter(field.dataTypeID, { label: read.label, column: field.name }),
        );
      }
      if (result.rows.length === 0) break;
      const rows = result.rows.map((raw) => {
        const row: TableRow = {};
        for (let index = 0; index < converters.length; index++) {
          const text = raw[index];
          row[(names as readonly string[])[index] as string] =
            text === null || text === undefined ? null : (converters[index] as PostgresConvert)(text);
        }
        return row;
      });
      yield* rows;
    }
    try {
      await client.query(`CLOSE ${CURSOR}`);
      await client.query('COMMIT');
    } catch (error) {
      throw failure(read, error);
    }
  } finally {
    // After an early exit or an error, ending the connection rolls back and drops the cursor.
    await client.end().catch(() => undefined);
  }
}
