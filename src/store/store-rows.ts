/**
 * What every row module of the SQL store shares (`model-rows.ts`, `version-rows.ts`,
 * `alias-rows.ts`, `deployment-rows.ts`, `run-rows.ts`, `dataset-rows.ts`): the `write` they run
 * their changes through, and JSON in TEXT columns. Each row module keeps its column list beside its
 * row type and mapper, so that a SELECT and its mapper cannot drift apart.
 */
import type { StoreChange } from './metadata-store.ts';
import type { SqlExecutor } from './sql-driver.ts';

/**
 * The store's `write`: one transaction that takes the next change number first (the writers'
 * lock), runs `fn` with it, records `change` last, and tells listeners after the commit.
 *
 * Event ids (alias moves, deployment events) are the change number of the write that records
 * them: unique, never reused after a delete, ordered by commit, and free of any engine's
 * auto-increment. A write records at most one event per table.
 */
export type StoreWrite = <T>(change: StoreChange, fn: (tx: SqlExecutor, seq: number) => Promise<T>) => Promise<T>;

/** What a row module's methods run on: reads on the driver, writes through `write`. */
export interface RowMethodsOptions {
  /** Reads outside a transaction. */
  readonly driver: SqlExecutor;
  readonly write: StoreWrite;
}

/** JSON for a TEXT column; `undefined` is stored as `null`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** A TEXT column's JSON, as the type the row module knows it holds. */
export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** `values` without repeats, in first-seen order (tags, refs). */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
