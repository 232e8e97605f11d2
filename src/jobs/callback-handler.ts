/**
 * Runs a `callback` job: reads the finished job it reports on (its durable state, so the
 * callback and `GET /api/v1/jobs/{id}` always agree), signs `{ id, state, timestamp, result |
 * error }` and POSTs it to the URL the job's payload names. Attempts, backoff and jitter are the
 * queue's; a delivery that fails for good is logged at error level with the job and the reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { FINISHED_STATES, type JobHandler, type JobQueue, type JobRecord } from '../queue/job-queue.ts';
import type { Tracing } from '../monitor/tracing.ts';
import { deliverCallback } from './callback-delivery.ts';
import type { CallbackHostPolicy } from './callback-host-policy.ts';
import { CallbackTargetSchema } from './infer-async-payload.ts';

/** `callback`: deliver the outcome of job `jobId` to the callback its payload names. */
export const CallbackPayloadSchema = z.strictObject({ jobId: z.string().min(1).max(128) });

/** Options of {@link callbackHandler}. */
export interface CallbackHandlerOptions {
  /** OpenTelemetry tracing: each delivery becomes a client span, its `traceparent` sent along. @default off */
  readonly tracing?: Pick<Tracing, 'startOutgoing'>;
  readonly queue: Pick<JobQueue, 'get' | 'onEvent'>;
  readonly logger: Logger;
  /** Signs callbacks whose request brought no secret. */
  readonly secret?: string | undefined;
  /** One delivery gives up after this long (ms). */
  readonly timeoutMs: number;
  /** Where callbacks may go; a refused host fails the callback job (not the job it reports on). */
  readonly hosts: CallbackHostPolicy;
  /**
   * How long to wait for the reported job to reach its finished state (the callback is queued
   * just before the job completes). Longer, and the attempt fails and is retried. @default 30000
   */
  readonly finishWaitMs?: number;
}

/** The handler of `callback` jobs. */
export function callbackHandler(options: CallbackHandlerOptions): JobHandler {
  const { queue, logger } = options;
  return async (job) => {
    const { jobId } = CallbackPayloadSchema.parse(job.record.payload);
    const reported = await finishedJob(queue, jobId, {
      signal: job.signal,
      waitMs: options.finishWaitMs ?? 30_000,
    });
    const target = CallbackTargetSchema.parse((reported.payload as { callback?: unknown }).callback);
    const secret = target.secret ?? options.secret;
    if (secret === undefined) {
      throw new StratumError('CALLBACK_REJECTED', `job ${jobId}'s callback has no secret and the server sets none`);
    }
    const timestamp = Date.now();
    const body = JSON.stringify(callbackBody(reported, timestamp));
    // With tracing on, the delivery is a client span and the receiver gets its traceparent.
    const outgoing = options.tracing?.startOutgoing({
      name: 'POST callback',
      attributes: { 'stratum.job': jobId, 'stratum.attempt': job.attempt },
    });
    try {
      const status = await deliverCallback({
        url: target.url,
        body,
        timestamp,
        secret,
        timeoutMs: options.timeoutMs,
        hosts: options.hosts,
        signal: job.signal,
        ...(outgoing !== undefined && { headers: outgoing.headers }),
      });
      outgoing?.trace.end();
      logger.debug({ jobId, callbackJob: job.record.id, status, attempt: job.attempt }, 'callback delivered');
      return { jobId, status, attempt: job.attempt };
    } catch (error) {
      outgoing?.trace.end(error);
      const final =
        !(error instanceof StratumError && error.code === 'CALLBACK_FAILED') || job.attempt >= job.record.maxAttempts;
      const fields = { jobId, callbackJob: job.record.id, attempt: job.attempt, err: error };
      if (final) logger.error(fields, 'callback delivery failed for good');
      else logger.warn(fields, 'callback delivery failed; retrying');
      throw error;
    }
  };
}

/** What the receiver gets. */
export function callbackBody(job: JobRecord, timestamp: number): Record<string, unknown> {
  const base = { id: job.id, state: job.state, timestamp };
  if (job.state === 'completed') return { ...base, result: job.result };
  if (job.state === 'cancelled')
    return { ...base, error: { code: 'JOB_CANCELLED', message: `job ${job.id} was cancelled` } };
  const error = job.error;
  return {
    ...base,
    error:
      error === undefined
        ? { code: 'INTERNAL', message: 'the job failed' }
        : { code: error.code, message: error.message, ...(error.details !== undefined && { details: error.details }) },
  };
}

/** The job once it has finished; waits up to `waitMs` for it, subscribed before the first read. */
async function finishedJob(
  queue: Pick<JobQueue, 'get' | 'onEvent'>,
  jobId: string,
  wait: { readonly signal: AbortSignal; readonly waitMs: number },
): Promise<JobRecord> {
  let heard!: () => void;
  const finished = new Promise<void>((resolve) => (heard = resolve));
  const off = queue.onEvent((event) => {
    if (event.jobId !== jobId) return;
    if (event.type === 'completed' || event.type === 'cancelled' || (event.type === 'failed' && !event.willRetry))
      heard();
  });
  try {
    const first = await queue.get(jobId);
    if (FINISHED_STATES.includes(first.state)) return first;
    const gaveUp = new AbortController();
    const signal = AbortSignal.any([wait.signal, gaveUp.signal]);
    await Promise.race([finished, sleep(wait.waitMs, undefined, { signal }).catch(() => undefined)]);
    gaveUp.abort();
    if (wait.signal.aborted) throw wait.signal.reason;
    const again = await queue.get(jobId);
    if (FINISHED_STATES.includes(again.state)) return again;
    throw new StratumError(
      'CALLBACK_FAILED',
      `job ${jobId} has not finished within ${wait.waitMs} ms; the callback waits for it`,
    );
  } finally {
    off();
  }
}
