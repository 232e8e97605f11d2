/**
 * The PostgreSQL driver, on a `pg.Pool`. It numbers the `?` placeholders, reads BIGINT as a JS
 * number (epoch milliseconds and counters stay far below 2^53), confines the store to the schema
 * named by `?schema=` on the URL (created on first use) and reports connection failures as
 * STORE_UNAVAILABLE.
 */
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import { StratumError } from '../errors/index.ts';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';

/** Where to connect, parsed once from the database URL. */
export interface PostgresConnection {
  /** Client settings shared by the pool and the LISTEN connection. */
  readonly clientConfig: pg.ClientConfig;
  /** The schema from `?schema=`, or undefined for the server's default search path. */
  readonly schema: string | undefined;
  /** The URL without credentials, for messages. */
  readonly label: string;
}

/** Options of {@link openPostgresDriver}. */
export interface PostgresDriverOptions {
  readonly connection: PostgresConnection;
  /** Connections in the pool. @default 10 */
  readonly poolSize?: number;
  readonly logger?: Logger;
}

// pg_advisory_xact_lock key held while creating the schema ("STRM" in ASCII, then 0); two
// concurrent CREATE SCHEMA IF NOT EXISTS can otherwise fail on pg_namespace's unique index.
const SCHEMA_LOCK_KEY = 0x5354524d_00;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
// BIGINT's type OID.
const INT8_OID = 20;

/**
 * Splits `?schema=` off a `postgres://` URL. The schema must be a lowercase identifier, so that it
 * needs no quoting in `search_path` or `CREATE SCHEMA`.
 */
export function parsePostgresUrl(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new StratumError('CONFIG_INVALID', 'database URL is not a valid postgres:// URL', { cause: error });
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StratumError(
      'CONFIG_INVALID',
      `database URL: schema "${schema}" must be 1-63 lowercase letters, digits or underscores, not starting with a digit`,
      { details: { schema } },
    );
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (value: string) => Number(value));
  const clientConfig: pg.ClientConfig = {
    connectionString: parsed.toString(),
    types,
    connectionTimeoutMillis: 5000,
    application_name: 'stratum',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const label = `${parsed.protocol}//${parsed.host}${parsed.pathname}${schema === undefined ? '' : `?schema=${schema}`}`;
  return { clientConfig, schema, label };
}

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1, $2, …`, leaving quoted literals and identifiers alone. */
export function numberPlaceholders(sql: string): string {
  const cached = placeholderCache.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let count = 0;
  let quote: string | undefined;
  for (const char of sql) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === '?') {
      out += `$${++count}`;
    } else {
      out += char;
    }
  }
  placeholderCache.set(sql, out);
  return out;
}

// Node socket errors and SQLSTATEs that mean "the server cannot be reached or will not serve us":
// class 08 (connection exception), 28 (authorisation), 3D000 (no such database), 57P0x
// (shutting down), 53300 (too many connections).
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const SQLSTATE_UNAVAILABLE = /^(08|28|3D000|57P0|53300)/;
const MESSAGE_UNAVAILABLE = /connection terminated|timeout exceeded when trying to connect|connection error/i;

/** True when `error` means the PostgreSQL server cannot be used right now. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATE_UNAVAILABLE.test(code))) return true;
  return MESSAGE_UNAVAILABLE.test(error.message);
}

function normaliseError(label: string, error: unknown): unknown {
  if (error instanceof StratumError || !isConnectionError(error)) return error;
  const reason = (error as Error).message || (error as { code?: string }).code || 'connection failed';
  return new StratumError('STORE_UNAVAILABLE', `PostgreSQL at ${label} is unavailable: ${reason}`, {
    details: { database: label },
    cause: error,
  });
}

/**
 * Connects a pool, checks that the server answers and creates the URL's schema if it is missing.
 *
 * @example
 * const driver = await openPostgresDriver({ connection: parsePostgresUrl('postgres://db/stratum?schema=prod') });
 */
export async function openPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  const { connection, logger } = options;
  const { label } = connection;
  const pool = new pg.Pool({ ...connection.clientConfig, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => logger?.warn({ err: error, database: label }, 'PostgreSQL idle connection failed'));
  let closing: Promise<void> | undefined;

  // Only new work is refused after close(): a transaction already running may still commit.
  const ensureOpen = (): void => {
    if (closing !== undefined) throw new StratumError('STORE_UNAVAILABLE', `PostgreSQL at ${label} is closed`);
  };
  const wrap = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw normaliseError(label, error);
    }
  };

  function executorOn(client: pg.Pool | pg.PoolClient): SqlExecutor {
    const check = client === pool ? ensureOpen : () => undefined;
    return {
      engine: 'postgres',
      query: <T>(sql: string, params: readonly SqlValue[] = []) =>
        wrap(async () => {
          check();
          return (await client.query(numberPlaceholders(sql), [...params])).rows as T[];
        }),
      execute: (sql: string, params: readonly SqlValue[] = []) =>
        wrap(async () => {
          check();
          return { changes: (await client.query(numberPlaceholders(sql), [...params])).rowCount ?? 0 };
        }),
      executeScript: (sql: string) =>
        wrap(async () => {
          check();
          // Without parameters pg uses the simple query protocol, which accepts several statements.
          await client.query(sql);
        }),
    };
  }

  const driver: SqlDriver = {
    ...executorOn(pool),
    transaction: async (fn) => {
      const client = await wrap(() => {
        ensureOpen();
        return pool.connect();
      });
      let broken: Error | undefined;
      try {
        await wrap(() => client.query('BEGIN'));
        const result = await fn(executorOn(client));
        await wrap(() => client.query('COMMIT'));
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable: tell the pool to discard it rather than reuse it.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw normaliseError(label, error);
      } finally {
        client.release(broken);
      }
    },
    close: () => {
      closing ??= pool.end();
      return closing;
    },
  };

  try {
    if (connection.schema === undefined) {
      await driver.query('SELECT 1');
    } else {
      const schema = connection.schema;
      await driver.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
        await tx.executeScript(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      });
    }
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return driver;
}
