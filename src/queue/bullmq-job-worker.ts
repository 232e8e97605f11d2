/**
 * A BullMQ Worker running Stratum handlers. BullMQ does the claiming, lock renewal and stalled-job
 * recovery (lockDuration = lockMs, the stalled check every lockMs); this wrapper adds what the
 * contract needs on top: the handler's signal (timeouts, cancels from any process, shutdown), our
 * error on the job, no retry for 4xx errors, the kinds filter and attempt metrics.
 */
import { hostname } from 'node:os';
import { pid } from 'node:process';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type ConnectionOptions } from 'bullmq';
import { isStratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { abortReasons, isRetryable, toJobError } from './job-options.ts';
import type { JobEvent, JobWorker, WorkOptions } from './job-queue.ts';
import { type BullmqJob, parseJobError, toJobRecordFromBullmq } from './bullmq-job-records.ts';
import { AttemptAbort } from './attempt-abort.ts';
import { runAttempt } from './run-attempt.ts';

/** What a worker needs from its queue. */
export interface BullmqWorkerContext {
  readonly name: string;
  readonly prefix: string;
  readonly connection: ConnectionOptions;
  /** This worker's running handlers, by job id (a cancel from any process aborts them). */
  readonly running: Map<string, AttemptAbort>;
  /** Whether a cancel of `id` was heard recently (before its handler started). */
  wasCancelled(id: string): boolean;
  /** Publishes an event BullMQ does not emit (a failed attempt that will be retried). */
  publish(event: JobEvent): Promise<void>;
  /** Moves a cancelled job out of BullMQ's failed set into the cancelled records. */
  entomb(job: BullmqJob): Promise<void>;
  readonly logger?: Logger | undefined;
}

const DEFAULT_GRACE_MS = 10_000;
// A job of a kind this worker does not take is handed back this much later for another worker.
const HAND_BACK_MS = 100;

/** Starts a BullMQ worker for `work`. */
export function startBullmqWorker(context: BullmqWorkerContext, work: WorkOptions): JobWorker {
  const { running, logger } = context;
  const lockMs = work.lockMs ?? 30_000;
  const kinds = work.kinds === undefined ? undefined : new Set(work.kinds);
  // Aborted by close(): ends a wait for admission.
  const stopping = new AbortController();

  async function process(job: BullmqJob, token?: string): Promise<unknown> {
    const id = job.id ?? '';
    if (kinds !== undefined && !kinds.has(job.name)) {
      await job.moveToDelayed(Date.now() + HAND_BACK_MS, token);
      throw new DelayedError();
    }
    if (work.admit !== undefined) {
      try {
        await work.admit(stopping.signal);
      } catch {
        // The worker is closing: the job goes back for another worker.
        await job.moveToWait(token).catch(() => undefined);
        throw new WaitingError();
      }
    }
    const abort = new AttemptAbort();
    running.set(id, abort);
    if (job.data.cancelRequested === true || context.wasCancelled(id)) abort.abort(abortReasons.cancelled(id));
    const record = toJobRecordFromBullmq(job, 'active');
    const startedAt = Date.now();
    if (job.attemptsStarted <= 1) work.observer?.started({ kind: job.name, waitMs: startedAt - job.timestamp });
    const outcome = await runAttempt({
      record,
      progress: (progress) => job.updateProgress(progress as object),
      handler: work.handler,
      abort,
      timeoutMs: job.data.timeoutMs,
    });
    running.delete(id);
    if (outcome.ok) {
      work.observer?.finished({ kind: job.name, durationMs: Date.now() - startedAt, outcome: 'completed' });
      return outcome.result ?? null;
    }
    const reason: unknown = abort.reason;
    if (isStratumError(reason) && reason.code === 'SHUTTING_DOWN') {
      // After a lost lock the job is no longer ours to move (BullMQ refuses the stale token).
      await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    }
    const cancelled = isStratumError(reason) && reason.code === 'JOB_CANCELLED';
    const error = toJobError(cancelled ? reason : outcome.error, record.attemptsMade);
    const retryable = !cancelled && isRetryable(outcome.error);
    const willRetry = retryable && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    work.observer?.finished({
      kind: job.name,
      durationMs: Date.now() - startedAt,
      outcome: cancelled ? 'cancelled' : willRetry ? 'retry' : 'failed',
    });
    if (willRetry) await context.publish({ type: 'failed', jobId: id, error, willRetry: true });
    const message = JSON.stringify(error);
    throw retryable ? new Error(message) : new UnrecoverableError(message);
  }

  const worker = new Worker<BullmqJob['data'], unknown, string>(context.name, process, {
    connection: context.connection,
    prefix: context.prefix,
    concurrency: Math.max(1, Math.trunc(work.concurrency ?? 1)),
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 2,
    // The job's `workerId` names the process, so a dead worker's jobs can be told apart.
    name: work.name ?? `${hostname()}:${pid}`,
  });
  worker.on('error', (error) => logger?.warn({ err: error }, 'BullMQ worker error (it retries)'));
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) running.get(id)?.abort(abortReasons.lockLost(id));
  });
  worker.on('failed', (job) => {
    if (job === undefined) return;
    if (parseJobError(job.failedReason, job.attemptsMade)?.code !== 'JOB_CANCELLED') return;
    context
      .entomb(job)
      .catch((error: unknown) => logger?.warn({ err: error, jobId: job.id }, 'recording a cancel failed'));
  });

  let closing: Promise<void> | undefined;
  return {
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= (async () => {
        stopping.abort(new Error('the worker is closing'));
        const closed = worker.close();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        // Abort what this worker still runs; the handlers' jobs go back to waiting.
        for (const [id, abort] of running) abort.abort(abortReasons.shutdown(id));
        await closed;
      })();
      return closing;
    },
  };
}
