/**
 * The change feed behind `MetadataStore.onChange`. Every write transaction takes the next number
 * of the database's change sequence as its first statement and records `(seq, kind, name)` as its
 * last, so the feed sees exactly the writes that committed, in commit order. Three mechanisms
 * deliver a change to a store's listeners:
 *
 * - in-process: the writing store calls its own listeners right after the commit;
 * - push: the notifier (PostgreSQL LISTEN/NOTIFY) delivers other stores' writes within milliseconds;
 * - polling: every `pollMs`, rows past the last one seen, as a safety net for dropped connections
 *   and the only cross-process channel on SQLite.
 *
 * Each mechanism delivers a change at most once, and a window of recently delivered sequence
 * numbers suppresses most repeats across mechanisms. Listeners are reconcilers and must stay
 * idempotent: a change can still arrive twice (after that window), or long after it was made.
 */
import type { Logger } from '../logging/logger.ts';
import type { StoreChange } from './metadata-store.ts';
import type { ChangeNotifier, SequencedChange } from './change-notifier.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';

/** Options of {@link openChangeFeed}. */
export interface ChangeFeedOptions {
  readonly driver: SqlDriver;
  readonly notifier: ChangeNotifier;
  /** Polling period (ms). @default 1000 */
  readonly pollMs?: number;
  readonly logger?: Logger;
}

/** The write side (used inside transactions) and the read side (listeners) of the feed. */
export interface ChangeFeed {
  /** First statement of a write transaction: the change's sequence number, and the writers' lock. */
  begin(tx: SqlExecutor): Promise<number>;
  /** Last statement of a write transaction: records the change and pushes it on commit. */
  record(tx: SqlExecutor, change: SequencedChange): Promise<void>;
  /** After the commit: calls this store's listeners at once. */
  committed(change: SequencedChange): void;
  /** Adds a listener; returns its unsubscribe function. Polling and push start with the first. */
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** Idempotent; stops the timer and the notifier. */
  close(): Promise<void>;
}

const POLL_BATCH = 500;
// Changes older than this many writes are pruned; a poller that far behind misses some of them
// (its listeners' periodic full reconcile covers that).
const KEEP_CHANGES = 10_000;
const PRUNE_EVERY = 500;
const DELIVERED_WINDOW = 4096;

/**
 * Opens the feed at the current end of the sequence: listeners hear of every change committed
 * after this call, including those committed before they subscribed.
 */
export async function openChangeFeed(options: ChangeFeedOptions): Promise<ChangeFeed> {
  const { driver, notifier, logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const rows = await driver.query<{ value: number }>("SELECT value FROM store_counters WHERE name = 'change'");
  let cursor = rows[0]?.value ?? 0;
  const listeners = new Set<(change: StoreChange) => void>();
  const delivered = new Set<number>();
  let started = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;

  function deliver(change: SequencedChange): void {
    if (closed || delivered.has(change.seq)) return;
    delivered.add(change.seq);
    if (delivered.size > DELIVERED_WINDOW) {
      // Sets iterate in insertion order: the first entry is the oldest delivery.
      for (const seq of delivered) {
        delivered.delete(seq);
        break;
      }
    }
    const event: StoreChange = { kind: change.kind, name: change.name };
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        logger?.error({ err: error, change: event }, 'a metadata change listener threw');
      }
    }
  }

  async function pollOnce(): Promise<void> {
    for (;;) {
      const changes = await driver.query<SequencedChange>(
        'SELECT seq, kind, name FROM store_changes WHERE seq > ? ORDER BY seq LIMIT ?',
        [cursor, POLL_BATCH],
      );
      for (const change of changes) {
        cursor = change.seq;
        deliver(change);
      }
      if (changes.length < POLL_BATCH || closed) return;
    }
  }

  // One poll at a time; a request during a poll runs one more right after it.
  function poll(): void {
    if (closed) return;
    if (polling !== undefined) {
      pollAgain = true;
      return;
    }
    clearTimeout(timer);
    polling = pollOnce()
      .catch((error: unknown) => logger?.warn({ err: error }, 'polling metadata changes failed'))
      .finally(() => {
        polling = undefined;
        if (closed) return;
        if (pollAgain) {
          pollAgain = false;
          poll();
          return;
        }
        timer = setTimeout(poll, pollMs);
        timer.unref();
      });
  }

  function start(): void {
    if (started || closed) return;
    started = true;
    notifier.start({ deliver, resync: poll });
    timer = setTimeout(poll, pollMs);
    timer.unref();
  }

  return {
    begin: async (tx) => {
      const [row] = await tx.query<{ value: number }>(
        "UPDATE store_counters SET value = value + 1 WHERE name = 'change' RETURNING value",
      );
      if (row === undefined) throw new Error('store_counters has no change row: the database is not migrated');
      return row.value;
    },
    record: async (tx, change) => {
      await tx.execute('INSERT INTO store_changes (seq, kind, name, created_at) VALUES (?, ?, ?, ?)', [
        change.seq,
        change.kind,
        change.name,
        Date.now(),
      ]);
      if (change.seq % PRUNE_EVERY === 0) {
        await tx.execute('DELETE FROM store_changes WHERE seq <= ?', [change.seq - KEEP_CHANGES]);
      }
      await notifier.publish(tx, change);
    },
    committed: deliver,
    subscribe: (listener) => {
      // Wrapped so that the same function subscribed twice is two subscriptions.
      const entry = (change: StoreChange): void => listener(change);
      listeners.add(entry);
      start();
      return () => {
        listeners.delete(entry);
      };
    },
    close: () => {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        listeners.clear();
        try {
          await notifier.close();
        } finally {
          // A poll in flight still uses the driver, which is closed next.
          await polling;
        }
      })();
      return closing;
    },
  };
}
