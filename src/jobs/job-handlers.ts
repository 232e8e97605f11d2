/**
 * The handlers of the kinds this process runs, by kind: a CPU-heavy kind runs in a worker thread
 * of its own (`thread-job.ts`); the others run on the event loop. The kinds that need more than
 * the settings (`batch-infer`, `tune`: a runtime pool, the queue) come through `extra`
 * (`worker-handlers.ts`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ActiveJob, JobHandler } from '../queue/job-queue.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { JobPayload } from './job-kinds.ts';
import { runInThread, threadStores } from './thread-job.ts';

/** Options of {@link createJobHandlers}. */
export interface JobHandlersOptions {
  /** The stores a job thread opens. */
  readonly config: Pick<Config, 'databaseUrl' | 'artifactsUrl' | 'registryPollMs' | 'bodyLimitBytes' | 'logLevel'> &
    Partial<Pick<Config, 'artifactEncryption'>>;
  /** Finishes the run a stopped training thread leaves `running`. */
  readonly store: Pick<MetadataStore, 'finishRun'>;
  readonly logger: Logger;
  /** More handlers (or replacements), by kind. */
  readonly extra?: Readonly<Record<string, JobHandler>>;
}

/** The handlers, by kind. */
export function createJobHandlers(options: JobHandlersOptions): Readonly<Record<string, JobHandler>> {
  return Object.freeze({
    noop: runNoop,
    train: (job: ActiveJob) => runThreadJob(job, options),
    evaluate: (job: ActiveJob) => runThreadJob(job, options),
    trial: (job: ActiveJob) => runThreadJob(job, options),
    ...options.extra,
  });
}

/** Runs a CPU-heavy job in its thread; a run the stopped thread leaves open is finished as failed. */
async function runThreadJob(job: ActiveJob, options: JobHandlersOptions): Promise<unknown> {
  const { config } = options;
  let runId: string | undefined;
  try {
    return await runInThread({
      input: {
        kind: job.record.kind,
        jobId: job.record.id,
        attempt: job.attempt,
        payload: job.record.payload,
        by: job.record.by,
        logLevel: config.logLevel,
        stores: threadStores(config),
      },
      job,
      onMessage: (message) => {
        if (message.type === 'started') runId = message.runId;
      },
    });
  } catch (error) {
    if (job.signal.aborted && runId !== undefined) {
      const reason = job.signal.reason instanceof Error ? job.signal.reason.message : 'stopped';
      await options.store
        .finishRun({ id: runId, status: 'failed', error: `job ${job.record.id} stopped: ${reason}` })
        .catch((e: unknown) => options.logger.warn({ err: e, run: runId }, 'could not finish the stopped run'));
    }
    throw error;
  }
}

/** `noop`: sleeps (until its signal aborts), reports progress, fails when asked. */
async function runNoop(job: ActiveJob): Promise<unknown> {
  const payload = job.record.payload as JobPayload<'noop'>;
  const steps = payload.progressSteps ?? 0;
  const sleepMs = payload.sleepMs ?? 0;
  if (sleepMs > 0 || steps > 0) {
    const slices = Math.max(1, steps);
    for (let step = 1; step <= slices; step++) {
      await sleep(sleepMs / slices, undefined, { signal: job.signal }).catch(() => {
        throw job.signal.reason as Error;
      });
      if (steps > 0) await job.progress({ fraction: step / steps, message: `step ${step}/${steps}` });
    }
  }
  const fail = payload.fail;
  if (fail === true || (typeof fail === 'number' && job.attempt <= fail)) {
    throw new StratumError('INTERNAL', `noop job failed as asked (attempt ${job.attempt})`);
  }
  return { ok: true, attempt: job.attempt };
}
