/**
 * Opens the job queue the configuration names: `embedded` (the SQLite metadata database) or
 * `redis://…` (BullMQ). The one place that knows which engines exist; BullMQ is loaded only when
 * it is asked for.
 */
import { resolve } from 'node:path';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { migrate } from '../store/migrate.ts';
import { openSqliteDriver } from '../store/sqlite-driver.ts';
import type { JobQueue } from './job-queue.ts';
import { createSqlJobQueue, embeddedOnPostgresError } from './sql-job-queue.ts';

/** Options of {@link openJobQueue}. */
export interface OpenJobQueueOptions {
  /** `embedded` or `redis://host:port[/db]` (`rediss://` for TLS). */
  readonly queueUrl: string;
  /** The metadata database URL (`sqlite:<path>`); the embedded engine keeps its jobs there. */
  readonly databaseUrl: string;
  /** Queues sharing a database or a Redis are kept apart by name. @default 'default' */
  readonly name?: string;
  readonly logger?: Logger;
  /** Base of a relative SQLite path. @default process.cwd() */
  readonly cwd?: string;
  /** Embedded engine: the cross-process polling period (ms). @default 250 */
  readonly pollMs?: number;
  /**
   * Embedded engine: `normal` syncs at WAL checkpoints only (no job lost when a process dies; the
   * last commits can be lost when the machine does), the SQLite driver's setting for every
   * connection; `full` syncs every commit to disk (nothing lost even on power loss), ≈ 10–50×
   * slower on small commits here, each one stalling the event loop. @default 'normal'
   */
  readonly synchronous?: 'full' | 'normal';
}

/**
 * Opens (and for the embedded engine, migrates) the queue. Close it with `queue.close()`.
 *
 * @example
 * const queue = await openJobQueue({ queueUrl: config.queueUrl, databaseUrl: config.databaseUrl });
 */
export async function openJobQueue(options: OpenJobQueueOptions): Promise<JobQueue> {
  const { queueUrl, databaseUrl, logger } = options;
  if (/^rediss?:\/\//.test(queueUrl)) {
    const { createBullmqJobQueue } = await import('./bullmq-job-queue.ts');
    return createBullmqJobQueue({
      url: queueUrl,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(logger === undefined ? {} : { logger }),
    });
  }
  if (queueUrl !== 'embedded') {
    throw new StratumError('CONFIG_INVALID', `queueUrl must be embedded or redis://…, got "${queueUrl}"`, {
      details: { queueUrl },
    });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) throw embeddedOnPostgresError();
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite:') {
    throw new StratumError(
      'CONFIG_INVALID',
      `the embedded job queue needs a sqlite:<path> database, got "${databaseUrl}"`,
    );
  }
  const path = databaseUrl.slice('sqlite:'.length);
  const driver = openSqliteDriver({ path: path === ':memory:' ? path : resolve(options.cwd ?? process.cwd(), path) });
  try {
    await migrate({ driver, ...(logger === undefined ? {} : { logger }) });
    // Per connection: the queue's own connection, not the metadata store's.
    if (options.synchronous === 'full') await driver.executeScript('PRAGMA synchronous = FULL');
    return createSqlJobQueue({
      driver,
      ownsDriver: true,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(logger === undefined ? {} : { logger }),
    });
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
}
