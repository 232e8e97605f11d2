/**
 * The embedded engine's consumer. One loop claims as many jobs as there are free slots in one
 * transaction, then sleeps until a slot frees, a job is submitted in this process, or `pollMs`
 * passes (how soon it sees other processes' jobs and due retries). A timer renews the locks of the
 * running jobs, reads their cancel flags (cancel across processes) and, now and then, recovers
 * jobs whose workers died.
 */
import { hostname } from 'node:os';
import type { Logger } from '../logging/logger.ts';
import { abortReasons, isRetryable, toJobError } from './job-options.ts';
import type { JobWorker, WorkOptions } from './job-queue.ts';
import { AttemptAbort } from './attempt-abort.ts';
import { runAttempt } from './run-attempt.ts';
import {
  type ClaimedJob,
  claimJobs,
  endAttempt,
  recordProgress,
  recoverStalled,
  renewLocks,
  type AttemptEnd,
} from './sql-job-claims.ts';
import type { SqlJobContext } from './sql-job-store.ts';

/** Options of {@link startSqlJobWorker}. */
export interface SqlJobWorkerOptions {
  readonly context: SqlJobContext;
  readonly work: WorkOptions;
  readonly pollMs: number;
  readonly logger?: Logger | undefined;
}

/** A worker, plus what its queue needs to reach it. */
export interface SqlJobWorker extends JobWorker {
  /** A job was submitted in this process: look now rather than at the next poll. */
  wake(): void;
  /** Aborts the handler of a job this worker runs (a cancel asked in this process). */
  abort(id: string): void;
}

interface Running {
  readonly claim: ClaimedJob;
  readonly abort: AttemptAbort;
  readonly slot: number;
  done?: Promise<void>;
}

const DEFAULT_GRACE_MS = 10_000;

/** Starts consuming; `close()` stops it. */
export function startSqlJobWorker(options: SqlJobWorkerOptions): SqlJobWorker {
  const { context, work, pollMs, logger } = options;
  const concurrency = Math.max(1, Math.trunc(work.concurrency ?? 1));
  const lockMs = work.lockMs ?? 30_000;
  const name = work.name ?? `${hostname()}:${process.pid}`;
  const running = new Map<string, Running>();
  const freeSlots = Array.from({ length: concurrency }, (_, i) => concurrency - 1 - i);
  let closing = false;
  let closed: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let lastRecovery = 0;
  // Aborted by close(): ends a wait for admission.
  const stopping = new AbortController();

  const wake = (): void => {
    wakeUp?.();
  };

  async function settle(entry: Running, end: AttemptEnd, startedAt: number): Promise<void> {
    const state = await endAttempt(context, entry.claim, end);
    const outcome = state === 'delayed' ? 'retry' : state === 'waiting' || state === undefined ? undefined : state;
    if (outcome !== undefined) {
      work.observer?.finished({ kind: entry.claim.record.kind, durationMs: Date.now() - startedAt, outcome });
    }
  }

  async function run(entry: Running): Promise<void> {
    const { record } = entry.claim;
    const startedAt = Date.now();
    if (record.attemptsMade === 1) {
      work.observer?.started({ kind: record.kind, waitMs: (record.startedAt ?? startedAt) - record.createdAt });
    }
    const outcome = await runAttempt({
      record,
      progress: (progress) => recordProgress(context, entry.claim, progress),
      handler: work.handler,
      abort: entry.abort,
      timeoutMs: record.timeoutMs,
    });
    const reason = entry.abort.reason as { code?: string } | undefined;
    let end: AttemptEnd;
    if (outcome.ok) end = { type: 'completed', result: outcome.result };
    else if (reason?.code === 'JOB_CANCELLED') end = { type: 'cancelled' };
    else if (reason?.code === 'SHUTTING_DOWN') end = { type: 'released' };
    else {
      const error = toJobError(outcome.error, record.attemptsMade);
      end = { type: 'failed', error, retryable: isRetryable(outcome.error) };
    }
    await settle(entry, end, startedAt);
  }

  function start(claim: ClaimedJob, slot: number): void {
    const entry: Running = { claim, abort: new AttemptAbort(), slot };
    running.set(claim.record.id, entry);
    entry.done = run(entry)
      .catch((error: unknown) => logger?.error({ err: error, jobId: claim.record.id }, 'recording a job failed'))
      .finally(() => {
        running.delete(claim.record.id);
        freeSlots.push(slot);
        wake();
      });
  }

  async function maintain(): Promise<void> {
    const now = Date.now();
    if (now - lastRecovery < lockMs / 2) return;
    lastRecovery = now;
    const recovered = await recoverStalled(context);
    if (recovered > 0) logger?.warn({ recovered }, 'recovered jobs whose worker stopped renewing its lock');
  }

  async function loop(): Promise<void> {
    while (!closing) {
      let claimedAll = false;
      try {
        await maintain();
        if (freeSlots.length > 0 && work.admit !== undefined) await work.admit(stopping.signal);
        if (freeSlots.length > 0 && !closing) {
          // With admission, one job per admission.
          const slots = work.admit === undefined ? [...freeSlots] : freeSlots.slice(-1);
          const claimed = await claimJobs(context, {
            workerIds: slots.map((slot) => `${name}/${slot}`),
            kinds: work.kinds,
            lockMs,
          });
          for (const claim of claimed) {
            const slot = freeSlots.pop();
            if (slot === undefined) break;
            start(claim, slot);
          }
          claimedAll = claimed.length > 0 && claimed.length === slots.length;
        }
      } catch (error) {
        if (closing) break;
        logger?.warn({ err: error }, 'claiming jobs failed; retrying');
      }
      if (claimedAll || closing) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  async function renew(): Promise<void> {
    const held = new Map([...running].map(([id, entry]) => [id, entry.claim.token]));
    const { cancelRequested, lost } = await renewLocks(context, held, lockMs);
    for (const id of cancelRequested) running.get(id)?.abort.abort(abortReasons.cancelled(id));
    for (const id of lost) running.get(id)?.abort.abort(abortReasons.lockLost(id));
  }

  const renewer = setInterval(
    () => {
      renew().catch((error: unknown) => logger?.warn({ err: error }, 'renewing job locks failed'));
    },
    Math.max(10, Math.min(lockMs / 3, 1000)),
  );
  const looping = loop();

  return {
    wake,
    abort(id) {
      running.get(id)?.abort.abort(abortReasons.cancelled(id));
    },
    close(graceMs = DEFAULT_GRACE_MS) {
      closed ??= (async () => {
        closing = true;
        stopping.abort(new Error('the worker is closing'));
        wake();
        await looping;
        const all = Promise.all([...running.values()].map((entry) => entry.done));
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([all, grace]);
        clearTimeout(timer);
        for (const [id, entry] of running) entry.abort.abort(abortReasons.shutdown(id));
        await all;
        clearInterval(renewer);
      })();
      return closed;
    },
  };
}
