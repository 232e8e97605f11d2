/**
 * The caller's operations of the BullMQ engine (submit, get, cancel, retry, counts) on a queue's
 * Redis handles. Cancelled jobs leave BullMQ for a hash of records (BullMQ has no such state); an
 * active job's cancel is a flag on its data plus a message on the queue's cancel channel.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Queue, QueueEventsProducer } from 'bullmq';
import type { Redis } from 'ioredis';
import { StratumError } from '../errors/index.ts';
import { normaliseJob } from './job-options.ts';
import type { JobCounts, JobEvent, JobRecord, SubmitJob } from './job-queue.ts';
import { type BullmqJob, toBullmqJob, toJobRecordFromBullmq, toJobState } from './bullmq-job-records.ts';
import type { JobIndexKeys, JobIndexWriter } from './bullmq-job-index.ts';

/** A queue's Redis handles and key names. */
export interface BullmqQueueContext {
  readonly queue: Queue<BullmqJob['data'], unknown, string>;
  /** Plain commands (the cancelled records, the cancel channel). */
  readonly client: Redis;
  readonly producer: QueueEventsProducer;
  /** The hash of cancelled jobs' records. */
  readonly cancelledKey: string;
  /** The channel cancels of active jobs are published on. */
  readonly cancelChannel: string;
  /** The listing index's keys, and its writer (see `bullmq-job-index.ts`). */
  readonly indexKeys: JobIndexKeys;
  readonly index: JobIndexWriter;
}

/** A job as read: our record, and BullMQ's job unless it was cancelled out of BullMQ. */
export interface FoundJob {
  readonly record: JobRecord;
  readonly job?: BullmqJob;
}

/** Publishes an event BullMQ does not emit itself (see `bullmq-job-events.ts`). */
export function publishJobEvent(context: BullmqQueueContext, event: JobEvent): Promise<void> {
  // Custom events carry their fields beside BullMQ's own `event` field, hence `payload`.
  return context.producer.publishEvent({ eventName: 'stratum', payload: JSON.stringify(event) });
}

/** Reads a job, or undefined. */
export async function readBullmqJob(
  context: Pick<BullmqQueueContext, 'queue' | 'client' | 'cancelledKey'>,
  id: string,
): Promise<FoundJob | undefined> {
  // The state first, then the job: the data read is never older than the state it is shown with.
  const bullmqState = await context.queue.getJobState(id);
  const job = bullmqState === 'unknown' ? undefined : ((await context.queue.getJob(id)) as BullmqJob | undefined);
  if (job !== undefined) {
    const state = toJobState(bullmqState, toJobRecordFromBullmq(job, 'waiting').error);
    if (state !== undefined) return { record: toJobRecordFromBullmq(job, state), job };
  }
  const text = await context.client.hget(context.cancelledKey, id);
  return text === null ? undefined : { record: JSON.parse(text) as JobRecord };
}

/** Reads a job, or JOB_NOT_FOUND. */
export async function requireBullmqJob(context: BullmqQueueContext, id: string): Promise<FoundJob> {
  const found = await readBullmqJob(context, id);
  if (found === undefined) throw new StratumError('JOB_NOT_FOUND', `no job with id "${id}"`, { details: { id } });
  return found;
}

/** Queues a job; an idempotency key is the job id's hash, so BullMQ keeps one job per key. */
export async function submitBullmqJob(context: BullmqQueueContext, submission: SubmitJob): Promise<JobRecord> {
  const job = normaliseJob(submission);
  const key = job.idempotencyKey;
  const id = key === undefined ? randomUUID() : `key-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  if (key !== undefined) {
    const existing = await readBullmqJob(context, id);
    if (existing !== undefined) return existing.record;
  }
  const { data, opts } = toBullmqJob(job, id);
  // Added and indexed at once: a list in between skips an index entry whose job is not there yet.
  const [added] = (await Promise.all([
    context.queue.add(job.kind, data, opts),
    context.index.add({ id, kind: job.kind, parentId: job.parentId }),
  ])) as [BullmqJob, void];
  // Two submissions racing with one key: BullMQ adds one; both read back the one it kept.
  if (key !== undefined) return (await requireBullmqJob(context, id)).record;
  return toJobRecordFromBullmq(added, job.delayMs > 0 ? 'delayed' : 'waiting');
}

/** Moves a cancelled job out of BullMQ into the cancelled records. */
export async function entombJob(context: BullmqQueueContext, job: BullmqJob): Promise<void> {
  const record: JobRecord = { ...toJobRecordFromBullmq(job, 'cancelled'), finishedAt: Date.now() };
  await context.client.hset(context.cancelledKey, record.id, JSON.stringify(record));
  await job.remove();
}

function finishedError(id: string, state: string): StratumError {
  return new StratumError('JOB_FINISHED', `job ${id} is ${state} and cannot be cancelled`, { details: { id, state } });
}

/** Cancels a waiting or delayed job at once, an active one through its worker. */
export async function cancelBullmqJob(context: BullmqQueueContext, id: string): Promise<JobRecord> {
  const { record, job } = await requireBullmqJob(context, id);
  if (record.state === 'completed' || record.state === 'failed' || record.state === 'cancelled' || job === undefined) {
    throw finishedError(id, record.state);
  }
  if (record.state !== 'active') {
    // remove() refuses a job a worker has just locked; then it is cancelled as an active job.
    const removed = await job.remove().then(
      () => true,
      () => false,
    );
    if (removed) {
      const cancelled: JobRecord = { ...record, state: 'cancelled', finishedAt: Date.now() };
      await context.client.hset(context.cancelledKey, id, JSON.stringify(cancelled));
      await publishJobEvent(context, { type: 'cancelled', jobId: id });
      return cancelled;
    }
  }
  await job.updateData({ ...job.data, cancelRequested: true });
  await context.client.publish(context.cancelChannel, id);
  return { ...record, state: 'active', cancelRequested: true };
}

/** Puts a failed or cancelled job back to waiting with its attempts reset. */
export async function retryBullmqJob(context: BullmqQueueContext, id: string): Promise<JobRecord> {
  const { record, job } = await requireBullmqJob(context, id);
  if (record.state !== 'failed' && record.state !== 'cancelled') {
    throw new StratumError('JOB_FINISHED', `job ${id} is ${record.state}; only failed or cancelled jobs are retried`, {
      details: { id, state: record.state },
    });
  }
  if (job === undefined) {
    const { data, opts } = toBullmqJob(
      normaliseJob({
        kind: record.kind,
        payload: record.payload,
        attempts: record.maxAttempts,
        backoff: record.backoff,
        by: record.by,
        ...(record.priority === undefined ? {} : { priority: record.priority }),
        ...(record.timeoutMs === undefined ? {} : { timeoutMs: record.timeoutMs }),
        ...(record.parentId === undefined ? {} : { parentId: record.parentId }),
        ...(record.idempotencyKey === undefined ? {} : { idempotencyKey: record.idempotencyKey }),
      }),
      id,
    );
    await context.queue.add(record.kind, data, opts);
    await context.client.hdel(context.cancelledKey, id);
  } else {
    await job.updateData({ ...job.data, cancelRequested: false });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
  return (await requireBullmqJob(context, id)).record;
}

/** Jobs by state (cancelled ones from the records hash). */
export async function countBullmqJobs(context: BullmqQueueContext): Promise<JobCounts> {
  const counts = await context.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  const cancelled = await context.client.hlen(context.cancelledKey);
  return {
    waiting: counts.wait ?? 0,
    prioritized: counts.prioritized ?? 0,
    delayed: counts.delayed ?? 0,
    active: counts.active ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    cancelled,
  };
}
