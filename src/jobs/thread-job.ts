/**
 * Runs one CPU-heavy job in a worker thread of its own (`job-thread.ts`), so the worker's event
 * loop stays free to renew the job's lock, hear its cancellation and serve other jobs. The job's
 * signal reaches the thread by ending it: `terminate()` stops even a tight training loop at once,
 * which a message the thread would have to poll for could not. The thread opens its own
 * connections to the stores (it shares nothing with the main thread), reports progress as
 * messages, and ends with its result or its error.
 */
import { fromThreadFailure } from '../errors/thread-failure.ts';
import type { MasterKeySettings } from '../artifacts/master-keys.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ActiveJob, JobProgress } from '../queue/job-queue.ts';
import { startWorker } from '../runtime/start-worker.ts';

/** The settings a thread opens its stores with. */
export interface ThreadStores {
  readonly databaseUrl: string;
  readonly artifactsUrl: string;
  readonly registryPollMs: number;
  readonly bodyLimitBytes: number;
  /** The master keys of an encrypted artifact store (handed to the thread in memory, never queued). */
  readonly artifactEncryption?: MasterKeySettings | undefined;
}

/** The stores settings a thread is handed, from the process's configuration. */
export function threadStores(config: {
  readonly databaseUrl: string;
  readonly artifactsUrl: string;
  readonly registryPollMs: number;
  readonly bodyLimitBytes: number;
  readonly artifactEncryption?: MasterKeySettings | undefined;
}): ThreadStores {
  return {
    databaseUrl: config.databaseUrl,
    artifactsUrl: config.artifactsUrl,
    registryPollMs: config.registryPollMs,
    bodyLimitBytes: config.bodyLimitBytes,
    artifactEncryption: config.artifactEncryption,
  };
}

/** What a job thread is given (its `workerData`). */
export interface ThreadJobInput {
  readonly kind: string;
  readonly jobId: string;
  readonly attempt: number;
  readonly payload: unknown;
  readonly by: string;
  readonly stores: ThreadStores;
  readonly logLevel: string;
}

/** What a job thread says. */
export type ThreadMessage =
  | { readonly type: 'progress'; readonly progress: JobProgress }
  /** A record the job made that must be closed if the thread is stopped (a run). */
  | { readonly type: 'started'; readonly runId: string }
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly details?: unknown };

/** What a thread handler may use besides its input. */
export interface ThreadHandlerContext {
  readonly post: (message: ThreadMessage) => void;
  readonly logger: Logger;
}

/** A kind's work inside its thread (`thread-handlers.ts` lists them). */
export type ThreadHandler = (input: ThreadJobInput, context: ThreadHandlerContext) => Promise<unknown>;

/** Options of {@link runInThread}. */
export interface RunInThreadOptions {
  readonly input: ThreadJobInput;
  readonly job: Pick<ActiveJob, 'signal' | 'progress'>;
  /** Hears every message (e.g. to remember the run a stopped thread leaves behind). */
  readonly onMessage?: (message: ThreadMessage) => void;
}

const ENTRY = new URL('./job-thread.ts', import.meta.url);

/**
 * Runs the job in a new thread; resolves with its result, rejects with its error, or with the
 * signal's reason once the signal aborts and the thread is stopped.
 */
export function runInThread(options: RunInThreadOptions): Promise<unknown> {
  const { input, job } = options;
  if (job.signal.aborted) return Promise.reject(job.signal.reason as Error);
  const worker = startWorker(ENTRY, { workerData: input, name: `job-${input.kind}-${input.jobId}` });
  return new Promise((resolve, reject) => {
    let settled = false;
    // Progress is durable: writes are chained so they land in order, and the outcome waits for them.
    let writes: Promise<void> = Promise.resolve();
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      job.signal.removeEventListener('abort', onAbort);
      void writes.then(outcome, outcome);
    };
    const onAbort = (): void => {
      settle(() => reject(job.signal.reason as Error));
      void worker.terminate();
    };
    job.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: ThreadMessage) => {
      options.onMessage?.(message);
      switch (message.type) {
        case 'progress':
          if (!settled) writes = writes.then(() => job.progress(message.progress)).catch(() => undefined);
          return;
        case 'done':
          settle(() => resolve(message.result));
          return;
        case 'error':
          settle(() => reject(threadError(message)));
          return;
        case 'started':
          return;
      }
    });
    worker.on('error', (error) => {
      settle(() => reject(new StratumError('INTERNAL', `the ${input.kind} job's thread crashed: ${error.message}`)));
    });
    worker.on('exit', (code) => {
      settle(() =>
        reject(new StratumError('INTERNAL', `the ${input.kind} job's thread exited (code ${code}) without a result`)),
      );
    });
  });
}

function threadError(message: Extract<ThreadMessage, { type: 'error' }>): StratumError {
  return fromThreadFailure(message);
}
