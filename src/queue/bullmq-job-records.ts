/**
 * How Stratum's jobs are laid out in BullMQ and read back. A job's kind is BullMQ's job name; the
 * rest of the submission travels in `data`; an attempt's error is our JobError as JSON in BullMQ's
 * `failedReason`. BullMQ has no cancelled state: a cancelled job is removed from BullMQ and kept
 * as a record in a Redis hash (`<prefix>:<queue>:stratum:cancelled`), which get, list and counts
 * read beside BullMQ's own sets.
 */
import type { Job, JobsOptions } from 'bullmq';
import type { NormalisedJob } from './job-options.ts';
import type { Backoff, JobError, JobProgress, JobRecord, JobState } from './job-queue.ts';

/** What a job carries in BullMQ's `data`. */
export interface BullmqJobData {
  readonly payload: unknown;
  /** Left out when it is the default `system` (every byte is written and read per job). */
  readonly by?: string;
  readonly priority?: number;
  readonly timeoutMs?: number;
  readonly idempotencyKey?: string;
  readonly parentId?: string;
  /** A cancel was asked while the job was active. */
  readonly cancelRequested?: boolean;
}

/** BullMQ's job for ours. */
export type BullmqJob = Job<BullmqJobData, unknown, string>;

/** The data and options a submission is added with. */
export function toBullmqJob(job: NormalisedJob, id: string): { data: BullmqJobData; opts: JobsOptions } {
  const data: BullmqJobData = {
    payload: JSON.parse(job.payloadJson) as unknown,
    ...(job.by === 'system' ? {} : { by: job.by }),
    ...(job.priority === undefined ? {} : { priority: job.priority }),
    ...(job.timeoutMs === undefined ? {} : { timeoutMs: job.timeoutMs }),
    ...(job.idempotencyKey === undefined ? {} : { idempotencyKey: job.idempotencyKey }),
    ...(job.parentId === undefined ? {} : { parentId: job.parentId }),
  };
  const opts: JobsOptions = {
    jobId: id,
    attempts: job.maxAttempts,
    // BullMQ's own jitter takes the same fraction off the delay as the embedded engine does.
    backoff: { type: job.backoff.type, delay: job.backoff.delayMs, jitter: job.backoff.jitter ?? 0.5 },
    ...(job.priority === undefined ? {} : { priority: job.priority }),
    ...(job.delayMs > 0 ? { delay: job.delayMs } : {}),
    // Results and errors are durable: BullMQ keeps finished jobs unless told to remove them, and
    // leaving the options out keeps every job's stored options small.
  };
  return { data, opts };
}

/** Our JobError from BullMQ's `failedReason` (which holds it as JSON). */
export function parseJobError(failedReason: string | undefined, attempt: number): JobError | undefined {
  if (failedReason === undefined || failedReason === '') return undefined;
  try {
    const parsed = JSON.parse(failedReason) as JobError;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') return parsed;
  } catch {
    // Not ours (BullMQ's own reasons, such as a job stalled too often): kept as an internal error.
  }
  return { code: 'INTERNAL', message: failedReason, attempt };
}

/** Our state for BullMQ's. */
export function toJobState(state: string, error: JobError | undefined): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'wait':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
      return 'delayed';
    case 'active':
      return 'active';
    case 'completed':
      return 'completed';
    case 'failed':
      return error?.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed';
    default:
      return undefined;
  }
}

/** Our backoff from BullMQ's job options (where it is kept rather than twice). */
function backoffOf(backoff: JobsOptions['backoff']): Backoff {
  if (typeof backoff === 'number') return { type: 'fixed', delayMs: backoff, jitter: 0 };
  if (backoff === undefined) return { type: 'fixed', delayMs: 0, jitter: 0 };
  return {
    type: backoff.type === 'fixed' ? 'fixed' : 'exponential',
    delayMs: backoff.delay ?? 0,
    jitter: backoff.jitter ?? 0,
  };
}

/** Our record of a BullMQ job in `state`. */
export function toJobRecordFromBullmq(job: BullmqJob, state: JobState): JobRecord {
  const data = job.data;
  const attempts = Math.max(job.attemptsStarted, job.attemptsMade);
  const error = job.failedReason === undefined ? undefined : parseJobError(job.failedReason, job.attemptsMade);
  const progress =
    typeof job.progress === 'object' && job.progress !== null ? (job.progress as JobProgress) : undefined;
  return {
    id: job.id ?? '',
    kind: job.name,
    payload: data.payload,
    state,
    ...(data.priority === undefined ? {} : { priority: data.priority }),
    attemptsMade: attempts,
    maxAttempts: job.opts.attempts ?? 1,
    backoff: backoffOf(job.opts.backoff),
    ...(data.timeoutMs === undefined ? {} : { timeoutMs: data.timeoutMs }),
    ...(data.idempotencyKey === undefined ? {} : { idempotencyKey: data.idempotencyKey }),
    ...(data.parentId === undefined ? {} : { parentId: data.parentId }),
    by: data.by ?? 'system',
    ...(progress === undefined ? {} : { progress }),
    ...(state === 'completed' ? { result: job.returnvalue ?? null } : {}),
    ...(error === undefined || state === 'completed' || state === 'waiting' ? {} : { error }),
    cancelRequested: data.cancelRequested === true,
    ...(state === 'active' && job.processedBy !== undefined ? { workerId: job.processedBy } : {}),
    createdAt: job.timestamp,
    ...(job.processedOn === undefined ? {} : { startedAt: job.processedOn }),
    ...(job.finishedOn === undefined ? {} : { finishedAt: job.finishedOn }),
  };
}
