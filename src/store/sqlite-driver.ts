/**
 * The SQLite driver, on libsql's synchronous better-sqlite3-style API. Every statement and every
 * transaction of every connection this process opens on one file goes through one promise chain:
 * the API is synchronous but transactions run async callbacks, and a second connection's
 * `BEGIN IMMEDIATE` would otherwise spin on the busy timeout while blocking the event loop that the
 * first transaction needs to finish. Other processes are kept out by SQLite's own write lock.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { StratumError } from '../errors/index.ts';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';

/** Options of {@link openSqliteDriver}. */
export interface SqliteDriverOptions {
  /** An absolute file path (its folder is created), or `:memory:` for a private in-memory database. */
  readonly path: string;
  /** How long a statement waits for another process's write lock (ms). @default 5000 */
  readonly busyTimeoutMs?: number;
}

// Bytes per page of a new database file (see where it is set).
const PAGE_SIZE = 16_384;

// Tails of the per-file chains; a rejected task never breaks the chain for the next one.
const chains = new Map<string, Promise<unknown>>();
let memoryDatabases = 0;

function enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = chains.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

// Codes that mean the file cannot be used right now (locked by another process, unreadable,
// disk full), as opposed to a bug in the statement.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|READONLY|FULL|PERM)/;

function unavailable(path: string, error: unknown): StratumError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StratumError('STORE_UNAVAILABLE', `SQLite database ${path} is unavailable: ${reason}`, {
    details: { path },
    cause: error,
  });
}

function normaliseError(path: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return unavailable(path, error);
  return error;
}

/**
 * Opens a SQLite database with WAL journaling (readers never wait for the writer), a busy timeout
 * for cross-process writers and foreign keys on.
 *
 * @example
 * const driver = openSqliteDriver({ path: '/var/lib/stratum/stratum.db' });
 */
export function openSqliteDriver(options: SqliteDriverOptions): SqlDriver {
  const { path } = options;
  const memory = path === ':memory:';
  const key = memory ? `:memory:#${++memoryDatabases}` : path;
  let db: Database.Database;
  try {
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // Only a new, empty file takes a page size, and only before WAL is on; an existing database
    // keeps the one it was created with. SQLite's cost per inference-log record follows the pages
    // it writes and checkpoints: 16 KiB pages took ≈ 40% less CPU per 3 KB record than the default
    // 4 KiB (bench/probes/log-insert-cost.ts), and the job queue's small updates barely notice.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    // Every statement runs on the event loop (the binding is synchronous), so a commit's fsync
    // stalls everything the process serves: ≈ 3 ms per small commit with FULL, 0.06 ms with
    // NORMAL (measured here). In WAL mode NORMAL keeps the database consistent and loses nothing
    // when the process crashes or is killed; only a power loss or OS crash may roll back the last
    // commits. The many-machine engines (PostgreSQL, Redis) carry the stronger guarantee.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw unavailable(path, error);
  }

  const statements = new Map<string, Database.Statement>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function prepare(sql: string): Database.Statement {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  }

  function guard<T>(run: () => T): T {
    if (closed) throw new StratumError('STORE_UNAVAILABLE', `SQLite database ${path} is closed`);
    try {
      return run();
    } catch (error) {
      throw normaliseError(path, error);
    }
  }

  function executorFor(isActive: () => boolean): SqlExecutor {
    const check = (): void => {
      if (!isActive()) throw new Error('SQLite transaction executor used after its transaction ended');
    };
    return {
      engine: 'sqlite',
      query: <T>(sql: string, params: readonly SqlValue[] = []) => {
        check();
        return Promise.resolve(guard(() => prepare(sql).all(params) as T[]));
      },
      execute: (sql: string, params: readonly SqlValue[] = []) => {
        check();
        return Promise.resolve(guard(() => ({ changes: prepare(sql).run(params).changes })));
      },
      executeScript: (sql: string) => {
        check();
        guard(() => db.exec(sql));
        return Promise.resolve();
      },
    };
  }

  // Statements outside a transaction take their turn in the chain, so they never see another
  // caller's uncommitted writes on this shared connection.
  const direct = executorFor(() => true);

  return {
    engine: 'sqlite',
    query: (sql, params) => enqueue(key, () => direct.query(sql, params)),
    execute: (sql, params) => enqueue(key, () => direct.execute(sql, params)),
    executeScript: (sql) => enqueue(key, () => direct.executeScript(sql)),
    transaction: (fn) =>
      enqueue(key, async () => {
        // IMMEDIATE takes the write lock now rather than at the first write, so two processes
        // cannot both read and then both fail to upgrade.
        guard(() => db.exec('BEGIN IMMEDIATE'));
        let active = true;
        try {
          const result = await fn(executorFor(() => active));
          guard(() => db.exec('COMMIT'));
          return result;
        } catch (error) {
          if (!closed && db.inTransaction) db.exec('ROLLBACK');
          throw error;
        } finally {
          active = false;
        }
      }),
    close: () => {
      closing ??= enqueue(key, () => {
        closed = true;
        db.close();
        return Promise.resolve();
      });
      return closing;
    },
  };
}
