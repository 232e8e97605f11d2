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
  readonly backoff: Backoff;
  readonly by: string;
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
    backoff: job.backoff,
    by: job.by,
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
    removeOnComplete: false,
    removeOnFail: false,
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
    backoff: data.backoff,
    ...(data.timeoutMs === undefined ? {} : { timeoutMs: data.timeoutMs }),
    ...(data.idempotencyKey === undefined ? {} : { idempotencyKey: data.idempotencyKey }),
    ...(data.parentId === undefined ? {} : { parentId: data.parentId }),
    by: data.by,
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
