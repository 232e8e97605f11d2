/**
 * Runs one attempt of a job the same way on both engines: the handler gets a signal, a timeout
 * aborts it with JOB_TIMEOUT, and the attempt ends when the handler settles — or at once on a
 * timeout or a shutdown, so a handler that ignores its signal cannot hold a worker slot forever.
 * A cancel waits for the handler, which is how "cancelled" can promise no partial output.
 */
import { isStratumError } from '../errors/index.ts';
import { abortReasons } from './job-options.ts';
import type { ActiveJob, JobHandler } from './job-queue.ts';

/** How an attempt ended. */
export type AttemptResult =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/** Options of {@link runAttempt}. */
export interface RunAttemptOptions {
  readonly job: ActiveJob;
  readonly handler: JobHandler;
  /** The controller behind `job.signal`; aborted here on a timeout. */
  readonly controller: AbortController;
  readonly timeoutMs?: number | undefined;
}

/** Runs the handler; never throws. */
export async function runAttempt(options: RunAttemptOptions): Promise<AttemptResult> {
  const { job, handler, controller, timeoutMs } = options;
  const signal = controller.signal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<AttemptResult>((resolve) => {
    onAbort = () => {
      const reason: unknown = signal.reason;
      if (isStratumError(reason) && reason.code !== 'JOB_CANCELLED') resolve({ ok: false, error: reason });
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => controller.abort(abortReasons.timeout(job.record.id, timeoutMs)), timeoutMs);
  }
  const ran = (async (): Promise<AttemptResult> => {
    try {
      return { ok: true, result: await handler(job) };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  try {
    const outcome = await Promise.race([ran, abandoned]);
    // A handler that returned normally after its job was cancelled still ends as cancelled.
    if (outcome.ok && signal.aborted) return { ok: false, error: signal.reason };
    return outcome;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
