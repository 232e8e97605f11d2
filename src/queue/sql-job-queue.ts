/**
 * The embedded job queue: the contract on the metadata database's SQLite file, through the store's
 * SqlDriver, migrations and write transactions. One machine, any number of processes sharing the
 * file; a restart loses no job. In-process listeners and workers hear of a change at once, other
 * processes within `pollMs`. PostgreSQL is refused: many machines are BullMQ's job
 * (STRATUM_QUEUE_URL=redis://…), and a second home-made distributed queue is not worth keeping.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { SqlDriver } from '../store/sql-driver.ts';
import { normaliseJob } from './job-options.ts';
import type { JobEvent, JobQueue, JobWorker } from './job-queue.ts';
import { createJobEventHub } from './sql-job-events.ts';
import {
  cancelJob,
  countJobs,
  insertJob,
  listJobs,
  requireJob,
  retryJob,
  type SqlJobContext,
} from './sql-job-store.ts';
import { type SqlJobWorker, startSqlJobWorker } from './sql-job-worker.ts';
import { toJobRecord } from './job-rows.ts';

/** Options of {@link createSqlJobQueue}. */
export interface SqlJobQueueOptions {
  /** A migrated SQLite driver (see `openJobQueue`). */
  readonly driver: SqlDriver;
  /** Queues sharing a database are kept apart by name. @default 'default' */
  readonly name?: string;
  /**
   * How often idle workers look for jobs and listeners for other processes' events (ms): the
   * cross-process delay. @default 250
   */
  readonly pollMs?: number;
  /** Close the driver with the queue. @default false */
  readonly ownsDriver?: boolean;
  readonly logger?: Logger;
}

/** The error for an embedded queue on a PostgreSQL metadata database. */
export function embeddedOnPostgresError(): StratumError {
  return new StratumError(
    'CONFIG_INVALID',
    'the embedded job queue runs on a SQLite metadata database only; with PostgreSQL (many machines) ' +
      'set STRATUM_QUEUE_URL=redis://host:6379 to use the BullMQ engine',
  );
}

/**
 * Creates the queue on `driver`.
 *
 * @example
 * const queue = createSqlJobQueue({ driver });
 * const job = await queue.submit({ kind: 'train', payload: spec });
 */
export function createSqlJobQueue(options: SqlJobQueueOptions): JobQueue {
  const { driver, logger } = options;
  if (driver.engine !== 'sqlite') throw embeddedOnPostgresError();
  const pollMs = options.pollMs ?? 250;
  const queue = options.name ?? 'default';
  const hub = createJobEventHub({ driver, queue, origin: randomUUID(), pollMs, logger });
  const context: SqlJobContext = { driver, queue, hub };
  const workers = new Set<SqlJobWorker>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const open = (): void => {
    if (closed) throw new StratumError('QUEUE_UNAVAILABLE', `job queue "${queue}" is closed`);
  };

  return {
    engine: 'sqlite',
    async submit(job) {
      open();
      const normalised = normaliseJob(job);
      const record = await insertJob(context, normalised);
      for (const worker of workers) worker.wake();
      return record;
    },
    async get(id) {
      open();
      return toJobRecord(await requireJob(driver, queue, id));
    },
    // async: a closed queue or a bad cursor rejects rather than throws, as on BullMQ.
    async list(listOptions) {
      open();
      return listJobs(context, listOptions);
    },
    async cancel(id) {
      open();
      const record = await cancelJob(context, id);
      if (record.state === 'active') for (const worker of workers) worker.abort(id);
      return record;
    },
    async retry(id) {
      open();
      const record = await retryJob(context, id);
      for (const worker of workers) worker.wake();
      return record;
    },
    async counts() {
      open();
      return countJobs(context);
    },
    work(workOptions): JobWorker {
      open();
      const worker = startSqlJobWorker({ context, work: workOptions, pollMs, logger });
      workers.add(worker);
      return {
        close: async (graceMs) => {
          await worker.close(graceMs);
          workers.delete(worker);
        },
      };
    },
    onEvent(listener: (event: JobEvent) => void) {
      return hub.subscribe(listener);
    },
    close() {
      closing ??= (async () => {
        closed = true;
        const errors: unknown[] = [];
        for (const worker of [...workers]) await worker.close().catch((error: unknown) => errors.push(error));
        workers.clear();
        hub.close();
        if (options.ownsDriver === true) await driver.close().catch((error: unknown) => errors.push(error));
        if (errors.length > 0) logger?.warn({ errors }, 'closing the job queue failed in part');
      })();
      return closing;
    },
  };
}
