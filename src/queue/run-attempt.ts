/**
 * Runs one attempt of a job the same way on both engines: the handler gets a signal, a timeout
 * aborts it with JOB_TIMEOUT, and the attempt ends when the handler settles — or at once on a
 * timeout or a shutdown, so a handler that ignores its signal cannot hold a worker slot forever.
 * A cancel waits for the handler, which is how "cancelled" can promise no partial output.
 */
import { isStratumError } from '../errors/index.ts';
import type { AttemptAbort } from './attempt-abort.ts';
import { abortReasons } from './job-options.ts';
import type { ActiveJob, JobHandler, JobProgress, JobRecord } from './job-queue.ts';

/** How an attempt ended. */
export type AttemptResult =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

/** Options of {@link runAttempt}. */
export interface RunAttemptOptions {
  /** The job as it is handed to the handler (its attempt is `attemptsMade`). */
  readonly record: JobRecord;
  /** Records progress durably and publishes it. */
  readonly progress: (progress: JobProgress) => Promise<void>;
  readonly handler: JobHandler;
  /** The attempt's abort, behind `job.signal`; aborted here on a timeout. */
  readonly abort: AttemptAbort;
  readonly timeoutMs?: number | undefined;
}

/** The handler's view of the attempt; its signal is made only if the handler reads it. */
class RunningJob implements ActiveJob {
  readonly attempt: number;
  readonly #abort: AttemptAbort;
  readonly #progress: (progress: JobProgress) => Promise<void>;

  constructor(
    readonly record: JobRecord,
    options: Pick<RunAttemptOptions, 'abort' | 'progress'>,
  ) {
    this.attempt = record.attemptsMade;
    this.#abort = options.abort;
    this.#progress = options.progress;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  progress(progress: JobProgress): Promise<void> {
    return this.#progress(progress);
  }
}

/** Runs the handler; never rejects. */
export function runAttempt(options: RunAttemptOptions): Promise<AttemptResult> {
  const { handler, abort, timeoutMs } = options;
  const job = new RunningJob(options.record, options);
  return new Promise<AttemptResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      abort.listen(undefined);
      resolve(result);
    };
    abort.listen((reason) => {
      if (isStratumError(reason) && reason.code !== 'JOB_CANCELLED') settle({ ok: false, error: reason });
    });
    if (timeoutMs !== undefined && !settled) {
      timer = setTimeout(() => abort.abort(abortReasons.timeout(job.record.id, timeoutMs)), timeoutMs);
    }
    let ran: Promise<unknown>;
    try {
      ran = Promise.resolve(handler(job));
    } catch (error) {
      settle({ ok: false, error });
      return;
    }
    ran.then(
      // A handler that returned normally after its job was cancelled still ends as cancelled.
      (result) => settle(abort.aborted ? { ok: false, error: abort.reason } : { ok: true, result }),
      (error: unknown) => settle({ ok: false, error }),
    );
  });
}
