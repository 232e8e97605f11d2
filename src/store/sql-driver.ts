/**
 * The narrow SQL surface the metadata store and the migrator are written against. SQL is written
 * once with `?` placeholders in the subset both engines accept; each driver adapts it (PostgreSQL
 * numbers the placeholders) and turns "cannot reach the database" into STORE_UNAVAILABLE. This is
 * internal to `src/store/`: the MetadataStore contract names no connection or transaction type.
 */

/**
 * A value bound to a placeholder. JSON is bound as text and booleans as 0/1 by the caller; bytes
 * go to BLOB (SQLite) or BYTEA (PostgreSQL) columns and come back as an ArrayBuffer (SQLite) or a
 * Buffer (PostgreSQL).
 */
export type SqlValue = string | number | Uint8Array | null;

/** The engines a driver can speak to. */
export type SqlEngine = 'sqlite' | 'postgres';

/** What can run SQL: the driver itself, or a driver bound to one open transaction. */
export interface SqlExecutor {
  /** The dialect, for the few statements that differ (locks, notifications). */
  readonly engine: SqlEngine;
  /** Runs a statement and returns its rows; BIGINT columns come back as numbers on both engines. */
  query<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement for its effect; `changes` is the number of rows written. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Runs several `;`-separated statements without parameters (migrations). */
  executeScript(sql: string): Promise<void>;
}

/** A connection (SQLite) or pool (PostgreSQL). */
export interface SqlDriver extends SqlExecutor {
  /**
   * Runs `fn` in one write transaction and commits when it resolves, rolls back when it throws.
   * Use only the executor passed to `fn` inside it: on SQLite the driver itself waits for the
   * transaction to end, so using it from inside would never finish.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Idempotent; waits for running statements to finish. */
  close(): Promise<void>;
}
