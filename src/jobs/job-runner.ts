/**
 * Consumes jobs in this process: every kind it has a handler for, each one logged as it starts
 * and ends. `stratum worker` and the in-process worker of `stratum serve` are both this. On the
 * embedded queue (which claims by kind) the kinds that wait on child jobs (`coordinates` in the
 * kinds table: `tune`, `pipeline`) run on a consumer of their own: with one slot, a search would otherwise
 * hold it while its trials wait for it, for ever.
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobHandler, JobObserver, JobQueue, JobWorker } from '../queue/job-queue.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { createJobHandlers } from './job-handlers.ts';
import { isJobKind, JOB_KINDS, type JobKind } from './job-kinds.ts';

/** Options of {@link startJobWorker}. */
export interface StartJobWorkerOptions {
  readonly queue: Pick<JobQueue, 'work' | 'engine'>;
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
  const common = {
    handler,
    ...(options.name !== undefined && { name: options.name }),
    ...(options.lockMs !== undefined && { lockMs: options.lockMs }),
    ...(options.observer !== undefined && { observer: options.observer }),
  };
  const concurrency = options.concurrency ?? 1;
  // BullMQ hands a job of another kind back to the queue rather than skipping it: there, one
  // consumer takes every kind (separate worker processes give a search's trials their slots).
  const coordinating =
    options.queue.engine === 'sqlite' ? kinds.filter((kind) => isJobKind(kind) && coordinates(kind)) : [];
  const others = kinds.filter((kind) => !coordinating.includes(kind));
  const workers = [options.queue.work({ ...common, kinds: others, concurrency })];
  if (coordinating.length > 0) workers.push(options.queue.work({ ...common, kinds: coordinating, concurrency }));
  logger.info({ kinds, concurrency, coordinating }, 'worker consuming jobs');
  return {
    kinds,
    async close(graceMs) {
      const results = await Promise.allSettled(workers.map((worker) => worker.close(graceMs)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
  };
}

function coordinates(kind: keyof typeof JOB_KINDS): boolean {
  const entry: JobKind = JOB_KINDS[kind];
  return entry.coordinates === true;
}
