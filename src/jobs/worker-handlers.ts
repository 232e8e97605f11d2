/**
 * The handlers a worker needs beyond the thread kinds of `job-handlers.ts`: batch inference (its
 * model in the process's runtime pool), the search coordinator (`tune`, on the stores and the
 * queue) and feedback files (`feedback`, on the inference log). `stratum worker` and the in-process worker of `stratum serve` both take them from here,
 * so the one process of the embedded setup runs every kind a worker does.
 */
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { Feedback } from '../deploy/feedback.ts';
import type { JobHandler, JobQueue } from '../queue/job-queue.ts';
import type { Registry } from '../registry/registry.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { createBatchHandlers } from './batch/batch-handlers.ts';
import type { ChunkExecutor } from './batch/chunk-executor.ts';
import { feedbackJobHandler } from './feedback/feedback-job.ts';
import { tuneJobHandlers } from './tune/tune-jobs.ts';
import { pipelineJobHandler } from './pipeline/pipeline-jobs.ts';
import type { Logger } from '../logging/logger.ts';

/** Options of {@link createWorkerHandlers}. */
export interface WorkerHandlersOptions {
  /** The queue the jobs come from: batch chunks and trials are submitted to it. */
  readonly queue: JobQueue;
  /** Batch jobs run their model here. */
  readonly runtime: RuntimePool;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly registry: Registry;
  /**
   * Where batch chunks run; closed with the handlers.
   * @default this thread, on `runtime`
   */
  readonly chunks?: ChunkExecutor | undefined;
  /** Where pipeline runs log. */
  readonly logger: Logger;
  /** The metadata database: `feedback` jobs join with the inference log there. */
  readonly databaseUrl: string;
  /**
   * The serving process's feedback service, when it logs requests (its buffer is flushed before
   * a join). @default one opened on `databaseUrl` per job
   */
  readonly feedback?: Feedback | undefined;
}

/** The handlers by kind, and `close()` for the models the batch handlers loaded. */
export interface WorkerHandlers {
  readonly handlers: Readonly<Record<string, JobHandler>>;
  /** Unloads the batch models. Idempotent. */
  close(): Promise<void>;
}

/**
 * The `batch-infer`, `batch-chunk`, `tune`, `pipeline` and `feedback` handlers.
 *
 * @example
 * ```ts
 * const extra = createWorkerHandlers({ queue, runtime, store, artifacts, registry, databaseUrl });
 * const worker = startJobWorker({ queue, config, store, logger, extraHandlers: extra.handlers });
 * ```
 */
export function createWorkerHandlers(options: WorkerHandlersOptions): WorkerHandlers {
  const { queue, runtime, store, artifacts, registry, chunks } = options;
  const batch = createBatchHandlers({ queue, runtime, registry, chunks });
  // The coordinator runs on the event loop (it waits on its trials); its trials are CPU-heavy
  // `trial` jobs, run in threads by the default handlers.
  const { tune } = tuneJobHandlers({ store, artifacts, registry, queue });
  // A pipeline run coordinates too: its training and evaluations are child jobs.
  const pipeline = pipelineJobHandler({
    store,
    context: { registry, queue },
    logger: options.logger.child({ component: 'pipelines' }),
    audit: store.audit,
  });
  const feedback = feedbackJobHandler({ databaseUrl: options.databaseUrl, feedback: options.feedback });
  return { handlers: { ...batch.handlers, tune, pipeline, feedback }, close: () => batch.close() };
}
