/**
 * Consumes jobs in this process: every kind it has a handler for, each one logged as it starts
 * and ends. `stratum worker` and the in-process worker of `stratum serve` are both this.
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobHandler, JobObserver, JobQueue, JobWorker } from '../queue/job-queue.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { createJobHandlers } from './job-handlers.ts';

/** Options of {@link startJobWorker}. */
export interface StartJobWorkerOptions {
  readonly queue: Pick<JobQueue, 'work'>;
  readonly config: Pick<Config, 'databaseUrl' | 'artifactsUrl' | 'registryPollMs' | 'bodyLimitBytes' | 'logLevel'> &
    Partial<Pick<Config, 'artifactEncryption'>>;
  readonly store: Pick<MetadataStore, 'finishRun'>;
  readonly logger: Logger;
  /** Jobs run at once. @default 1 */
  readonly concurrency?: number;
  /** How long a hold on a job lasts without renewal (ms). @default the queue's (30000) */
  readonly lockMs?: number;
  /** Names the worker in the jobs it holds. @default `host:pid` (the queue's default) */
  readonly name?: string;
  /** Hears of attempts, for the queue's metrics. @default none */
  readonly observer?: JobObserver;
  /** More handlers, by kind (kinds built elsewhere). */
  readonly extraHandlers?: Readonly<Record<string, JobHandler>>;
}

/** A running worker and the kinds it consumes. */
export interface RunningJobWorker extends JobWorker {
  readonly kinds: readonly string[];
}

/** Starts consuming every kind this process has a handler for. */
export function startJobWorker(options: StartJobWorkerOptions): RunningJobWorker {
  const { logger } = options;
  const handlers = createJobHandlers({
    config: options.config,
    store: options.store,
    logger,
    ...(options.extraHandlers !== undefined && { extra: options.extraHandlers }),
  });
  const kinds = Object.keys(handlers);
  const handler: JobHandler = async (job) => {
    const run = handlers[job.record.kind];
    if (run === undefined) {
      throw new StratumError('BAD_REQUEST', `this worker has no handler for jobs of kind "${job.record.kind}"`);
    }
    const fields = { job: job.record.id, kind: job.record.kind, attempt: job.attempt };
    const started = performance.now();
    logger.info(fields, 'job started');
    try {
      const result = await run(job);
      logger.info({ ...fields, ms: Math.round(performance.now() - started) }, 'job finished');
      return result;
    } catch (error) {
      const code = error instanceof StratumError ? error.code : 'INTERNAL';
      logger.warn(
        { ...fields, ms: Math.round(performance.now() - started), code, err: error },
        `job attempt failed: ${(error as Error).message}`,
      );
      throw error;
    }
  };
  const worker = options.queue.work({
    handler,
    kinds,
    concurrency: options.concurrency ?? 1,
    ...(options.name !== undefined && { name: options.name }),
    ...(options.lockMs !== undefined && { lockMs: options.lockMs }),
    ...(options.observer !== undefined && { observer: options.observer }),
  });
  logger.info({ kinds, concurrency: options.concurrency ?? 1 }, 'worker consuming jobs');
  return { kinds, close: (graceMs) => worker.close(graceMs) };
}
