/**
 * Runs an `infer-async` job in a serving replica: the stored request goes through the inference
 * service like an online one, but in the batcher's background class (behind every online
 * request), and the v2 response is the job's durable result. When the job ends — completed, or
 * failed for good, or cancelled while it ran — and a callback was asked for, a `callback` job is
 * queued *before* the handler returns: a process that dies after that point leaves a queued
 * delivery behind, and one that dies before it leaves the job to be run again (stalled-job
 * recovery), so the callback is never lost (it may, rarely, be sent twice: receivers dedupe by id).
 */
import { z } from 'zod';
import { isStratumError } from '../errors/index.ts';
import type { ActiveJob, JobHandler, JobQueue } from '../queue/job-queue.ts';
import type { InferenceService } from '../serving/inference-service.ts';
import {
  decodeInferAsyncPayload,
  type InferAsyncPayload,
  InferAsyncPayloadSchema,
  inferResponseJson,
} from './infer-async-payload.ts';

/**
 * The payload as a running job reads it back: the binary body's base64 was checked when the job
 * was submitted (and decoding checks its sizes), so it is not scanned again here.
 */
const StoredPayloadSchema = InferAsyncPayloadSchema.extend({
  binary: z.strictObject({ body: z.string(), headerLength: z.number().int().min(0) }).optional(),
});

/** The kind of the job that delivers a callback. */
export const CALLBACK_KIND = 'callback';

/** Options of {@link inferAsyncHandler}. */
export interface InferAsyncHandlerOptions {
  readonly service: InferenceService;
  /** Where callback jobs are queued. */
  readonly queue: Pick<JobQueue, 'submit'>;
  /** Largest BYTES element accepted (the server's `maxBytesElementBytes`). */
  readonly maxBytesElementBytes: number;
  /** The callback jobs' retry policy. */
  readonly callback: { readonly attempts: number; readonly backoffMs: number };
}

/** The handler of `infer-async` jobs. */
export function inferAsyncHandler(options: InferAsyncHandlerOptions): JobHandler {
  const { service, maxBytesElementBytes } = options;
  return async (job) => {
    const payload: InferAsyncPayload = StoredPayloadSchema.parse(job.record.payload);
    try {
      const request = decodeInferAsyncPayload(payload, maxBytesElementBytes);
      const response = await service.infer({
        model: payload.model,
        ...(payload.version !== undefined && { version: payload.version }),
        request: { ...request, background: true, signal: job.signal },
        protocol: 'async',
      });
      const result = inferResponseJson(response);
      await queueCallback(options, job, payload);
      return result;
    } catch (error) {
      if (endsTheJob(job, error)) await queueCallback(options, job, payload);
      throw error;
    }
  };
}

/** Queues the delivery of the job's outcome, once per attempt that ends the job. */
async function queueCallback(
  options: InferAsyncHandlerOptions,
  job: ActiveJob,
  payload: InferAsyncPayload,
): Promise<void> {
  if (payload.callback === undefined) return;
  const { id, startedAt } = job.record;
  await options.queue.submit({
    kind: CALLBACK_KIND,
    payload: { jobId: id },
    attempts: options.callback.attempts,
    backoff: { type: 'exponential', delayMs: options.callback.backoffMs, jitter: 0.5 },
    // A crash between queueing and completing re-runs the job: the same start time means the
    // same delivery. A manual retry starts afresh and calls back again.
    idempotencyKey: `callback:${id}:${startedAt ?? job.attempt}`,
    parentId: id,
    by: job.record.by,
  });
}

/** Whether this failure is the job's last word: cancelled, not worth retrying, or out of attempts. */
function endsTheJob(job: ActiveJob, error: unknown): boolean {
  if (job.signal.aborted && isStratumError(job.signal.reason) && job.signal.reason.code === 'JOB_CANCELLED')
    return true;
  if (isStratumError(error) && error.status >= 400 && error.status < 500) return true;
  return job.attempt >= job.record.maxAttempts;
}
