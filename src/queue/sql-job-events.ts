/**
 * Job events of the embedded engine. A write records its events in `job_events` inside its own
 * transaction and hands them to this process's listeners right after the commit; listeners in
 * other processes sharing the database file read the table every `pollMs` (the cross-process
 * delay), skipping the events their own process wrote. The poller runs only while someone listens;
 * old rows are pruned by whoever polls and by workers' maintenance.
 */
import type { Logger } from '../logging/logger.ts';
import type { SqlDriver, SqlExecutor } from '../store/sql-driver.ts';
import type { JobEvent } from './job-queue.ts';

/** Options of {@link createJobEventHub}. */
export interface JobEventHubOptions {
  readonly driver: SqlDriver;
  readonly queue: string;
  /** Identifies this process's queue object in the rows it writes. */
  readonly origin: string;
  /** @default 250 */
  readonly pollMs?: number;
  readonly logger?: Logger | undefined;
}

/** Listeners of one queue object, fed by its own writes and by polling. */
export interface JobEventHub {
  /** Writes events inside a transaction (call once per transaction, with all its events). */
  record(tx: SqlExecutor, events: readonly JobEvent[]): Promise<void>;
  /** Delivers events this process committed. */
  deliver(events: readonly JobEvent[]): void;
  subscribe(listener: (event: JobEvent) => void): () => void;
  /** Deletes events older than `keepMs`. */
  prune(keepMs?: number): Promise<void>;
  /** Idempotent. */
  close(): void;
}

const POLL_BATCH = 500;
const KEEP_EVENTS_MS = 10 * 60_000;
const PRUNE_EVERY_POLLS = 200;

/** Allocates `count` numbers of the job sequence inside a transaction; returns the first. */
export async function nextJobSeq(tx: SqlExecutor, count: number): Promise<number> {
  await tx.execute("UPDATE store_counters SET value = value + ? WHERE name = 'job'", [count]);
  const rows = await tx.query<{ value: number }>("SELECT value FROM store_counters WHERE name = 'job'");
  return (rows[0]?.value ?? count) - count + 1;
}

/** Creates the hub; polling starts with the first listener. */
export function createJobEventHub(options: JobEventHubOptions): JobEventHub {
  const { driver, queue, origin, logger } = options;
  const pollMs = options.pollMs ?? 250;
  const listeners = new Set<(event: JobEvent) => void>();
  let cursor: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polls = 0;
  let closed = false;

  function deliver(events: readonly JobEvent[]): void {
    for (const event of events) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (error) {
          logger?.warn({ err: error, event: event.type }, 'a job event listener threw');
        }
      }
    }
  }

  async function poll(): Promise<void> {
    if (cursor === undefined) {
      const rows = await driver.query<{ seq: number | null }>(
        'SELECT MAX(seq) AS seq FROM job_events WHERE queue = ?',
        [queue],
      );
      cursor = rows[0]?.seq ?? 0;
      return;
    }
    const rows = await driver.query<{ seq: number; origin: string; event: string }>(
      `SELECT seq, origin, event FROM job_events WHERE queue = ? AND seq > ? ORDER BY seq LIMIT ${POLL_BATCH}`,
      [queue, cursor],
    );
    for (const row of rows) {
      cursor = row.seq;
      if (row.origin !== origin) deliver([JSON.parse(row.event) as JobEvent]);
    }
    if (++polls % PRUNE_EVERY_POLLS === 0) await hub.prune();
  }

  function schedule(): void {
    if (closed || listeners.size === 0) return;
    timer = setTimeout(() => {
      poll().then(schedule, (error: unknown) => {
        logger?.warn({ err: error }, 'polling job events failed; retrying');
        schedule();
      });
    }, pollMs);
    timer.unref();
  }

  const hub: JobEventHub = {
    async record(tx, events) {
      if (events.length === 0) return;
      const first = await nextJobSeq(tx, events.length);
      const now = Date.now();
      for (const [i, event] of events.entries()) {
        await tx.execute('INSERT INTO job_events (seq, queue, origin, event, created_at) VALUES (?, ?, ?, ?, ?)', [
          first + i,
          queue,
          origin,
          JSON.stringify(event),
          now,
        ]);
      }
    },
    deliver,
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && timer === undefined) {
        // The first poll only reads the cursor, so events committed from now on are delivered.
        poll().then(schedule, (error: unknown) => {
          logger?.warn({ err: error }, 'reading the job event cursor failed');
          schedule();
        });
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
        }
      };
    },
    async prune(keepMs = KEEP_EVENTS_MS) {
      await driver.execute('DELETE FROM job_events WHERE queue = ? AND created_at < ?', [queue, Date.now() - keepMs]);
    },
    close() {
      closed = true;
      listeners.clear();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
  return hub;
}
