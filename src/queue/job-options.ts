/**
 * What both engines agree on about a job before and after it runs: a submission validated and
 * filled with its defaults, the delay before a retry, which errors are worth retrying, and how a
 * thrown value is recorded. One definition, so the two engines cannot drift apart.
 */
import { z } from 'zod';
import { formatIssues, isStratumError, StratumError } from '../errors/index.ts';
import type { Backoff, JobError, SubmitJob } from './job-queue.ts';

/** BullMQ's largest priority, kept by the embedded engine too. */
export const MAX_PRIORITY = 2_097_152;

/** The default backoff of a job. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ type: 'exponential', delayMs: 1000, jitter: 0.5 });

const backoffSchema = z.strictObject({
  type: z.enum(['exponential', 'fixed']),
  delayMs: z.number().int().min(0).max(86_400_000),
  jitter: z.number().min(0).max(1).optional(),
});

const submitSchema = z.strictObject({
  kind: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9-]*$/, 'expected lower-case letters, digits and dashes'),
  payload: z.unknown(),
  priority: z.number().int().min(1).max(MAX_PRIORITY).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
  backoff: backoffSchema.optional(),
  timeoutMs: z.number().int().min(1).optional(),
  delayMs: z.number().int().min(0).optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  parentId: z.string().min(1).max(128).optional(),
  by: z.string().min(1).max(256).optional(),
});

/** A submission with its defaults filled in. */
export interface NormalisedJob {
  readonly kind: string;
  /** The payload as JSON text. */
  readonly payloadJson: string;
  readonly priority: number | undefined;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly timeoutMs: number | undefined;
  readonly delayMs: number;
  readonly idempotencyKey: string | undefined;
  readonly parentId: string | undefined;
  readonly by: string;
}

/** Validates a submission: BAD_REQUEST naming each wrong field, never a failure inside a worker. */
export function normaliseJob(job: SubmitJob): NormalisedJob {
  const parsed = submitSchema.safeParse(job);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `job: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })) },
    });
  }
  const value = parsed.data;
  const payloadJson = JSON.stringify(value.payload ?? null);
  return {
    kind: value.kind,
    payloadJson,
    priority: value.priority,
    maxAttempts: value.attempts ?? 3,
    backoff:
      value.backoff === undefined
        ? DEFAULT_BACKOFF
        : { type: value.backoff.type, delayMs: value.backoff.delayMs, jitter: value.backoff.jitter ?? 0.5 },
    timeoutMs: value.timeoutMs,
    delayMs: value.delayMs ?? 0,
    idempotencyKey: value.idempotencyKey,
    parentId: value.parentId,
    by: value.by ?? 'system',
  };
}

/**
 * The delay before attempt `failedAttempt + 1`: exponential doubles from `delayMs`, and a random
 * part of up to `jitter` of it is taken off so jobs that failed together do not retry together.
 */
export function backoffDelay(backoff: Backoff, failedAttempt: number, random: () => number = Math.random): number {
  const base = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** Math.max(0, failedAttempt - 1);
  const jitter = backoff.jitter ?? 0.5;
  return Math.max(0, Math.round(base - base * jitter * random()));
}

/** Whether another attempt can help: not for the caller's mistakes (4xx codes), cancels included. */
export function isRetryable(error: unknown): boolean {
  if (!isStratumError(error)) return true;
  return error.status < 400 || error.status >= 500;
}

/** How a thrown value is kept on the job: its code and message, details when it has them. */
export function toJobError(error: unknown, attempt: number): JobError {
  if (isStratumError(error)) {
    return {
      code: error.code,
      message: error.message,
      attempt,
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, attempt };
}

/** The reasons a handler's signal aborts with. */
export const abortReasons = {
  cancelled: (id: string): StratumError => new StratumError('JOB_CANCELLED', `job ${id} was cancelled`),
  timeout: (id: string, timeoutMs: number): StratumError =>
    new StratumError('JOB_TIMEOUT', `job ${id} ran longer than its timeout of ${timeoutMs} ms`, {
      details: { timeoutMs },
    }),
  shutdown: (id: string): StratumError =>
    new StratumError('SHUTTING_DOWN', `the worker running job ${id} is shutting down`),
  // The queue gave the job to another worker (this one was too slow to renew its lock): the
  // handler stops as on a shutdown, and the job is the other worker's to finish.
  lockLost: (id: string): StratumError =>
    new StratumError('SHUTTING_DOWN', `the worker running job ${id} lost its lock; another worker takes the job`),
} as const;
