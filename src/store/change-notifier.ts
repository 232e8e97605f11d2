/**
 * How a committed write reaches stores in other processes faster than polling. PostgreSQL has one
 * (LISTEN/NOTIFY); SQLite has none and relies on the change feed's polling alone.
 */
import type { StoreChange } from './metadata-store.ts';
import type { SqlExecutor } from './sql-driver.ts';

/** A change with its place in the database's change sequence (unique, in commit order). */
export interface SequencedChange extends StoreChange {
  readonly seq: number;
}

/** What a notifier calls back into. */
export interface NotifierHandlers {
  /** A change committed by some store on the same database (possibly this one). */
  deliver(change: SequencedChange): void;
  /** Notifications may have been missed (the connection was re-established): poll now. */
  resync(): void;
}

/** A push channel between the stores of one database. */
export interface ChangeNotifier {
  /** Called inside the write transaction, so the push goes out only if the write commits. */
  publish(tx: SqlExecutor, change: SequencedChange): Promise<void>;
  /** Starts receiving; called once, when the store's first listener subscribes. */
  start(handlers: NotifierHandlers): void;
  /** Idempotent. */
  close(): Promise<void>;
}

/** The notifier of engines without a push channel: polling does all the work. */
export const pollingOnlyNotifier: ChangeNotifier = Object.freeze({
  publish: () => Promise.resolve(),
  start: () => undefined,
  close: () => Promise.resolve(),
});
