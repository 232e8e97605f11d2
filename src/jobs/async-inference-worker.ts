/**
 * The job consumer a serving replica runs beside its HTTP server: it takes `infer-async` jobs
 * (the replica has the models' batchers loaded, so asynchronous requests share them at the
 * background priority) and `callback` jobs (the deliveries of their outcomes), each kind with
 * its own concurrency so deliveries never wait behind inferences.
 */
import type { Tracing } from '../monitor/tracing.ts';
import type { AsyncInferenceConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobQueue, JobWorker } from '../queue/job-queue.ts';
import type { InferenceService } from '../serving/inference-service.ts';
import { callbackHandler } from './callback-handler.ts';
import type { CallbackHostPolicy } from './callback-host-policy.ts';
import { CALLBACK_KIND, inferAsyncHandler } from './infer-async-handler.ts';

/** The kind of an asynchronous inference job. */
export const INFER_ASYNC_KIND = 'infer-async';

/** Options of {@link startAsyncInferenceWorker}. */
export interface AsyncInferenceWorkerOptions {
  readonly queue: JobQueue;
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly settings: AsyncInferenceConfig;
  /** The server's `maxBytesElementBytes`. */
  readonly maxBytesElementBytes: number;
  /** Where callbacks may go (the `callbacks` settings). */
  readonly callbackHosts: CallbackHostPolicy;
  /** OpenTelemetry tracing of callback deliveries. @default off */
  readonly tracing?: Tracing;
  /** Names the worker in the jobs' `workerId`. @default `host:pid` */
  readonly name?: string;
}

/** Starts consuming `infer-async` and `callback` jobs; `close()` stops both. */
export function startAsyncInferenceWorker(options: AsyncInferenceWorkerOptions): JobWorker {
  const { queue, settings, logger } = options;
  const named = options.name === undefined ? {} : { name: options.name };
  const inference = queue.work({
    kinds: [INFER_ASYNC_KIND],
    concurrency: settings.concurrency,
    // Taken one at a time, and only while the online load is light: claiming, decoding and
    // recording a job are event-loop work that online requests would otherwise wait behind.
    admit: (signal) => options.service.onlineLoad.whenAtMost(settings.admitWhileOnlineAtMost, signal),
    handler: inferAsyncHandler({
      service: options.service,
      queue,
      maxBytesElementBytes: options.maxBytesElementBytes,
      callback: { attempts: settings.callbackAttempts, backoffMs: settings.callbackBackoffMs },
    }),
    ...named,
  });
  const callbacks = queue.work({
    kinds: [CALLBACK_KIND],
    concurrency: 4,
    handler: callbackHandler({
      queue,
      logger: logger.child({ component: 'callbacks' }),
      secret: settings.callbackSecret,
      timeoutMs: settings.callbackTimeoutMs,
      hosts: options.callbackHosts,
      ...(options.tracing !== undefined && { tracing: options.tracing }),
    }),
    ...named,
  });
  let closing: Promise<void> | undefined;
  return {
    close(graceMs) {
      closing ??= Promise.allSettled([inference.close(graceMs), callbacks.close(graceMs)]).then(() => undefined);
      return closing;
    },
  };
}
