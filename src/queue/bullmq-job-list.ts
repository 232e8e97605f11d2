/**
 * `list` on BullMQ: the newest jobs of each BullMQ set (and the cancelled records) merged newest
 * first, filtered, and paged by offset. BullMQ keeps no index across states, so each call reads at
 * most {@link LIST_SCAN} jobs per state: enough for a management view, not for an archive.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { StratumError } from '../errors/index.ts';
import type { Page } from '../store/metadata-store.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../store/page-cursor.ts';
import type { JobListOptions, JobRecord, JobState } from './job-queue.ts';
import { type BullmqJob, toJobRecordFromBullmq, toJobState } from './bullmq-job-records.ts';

/** Jobs read per BullMQ state by one list call. */
export const LIST_SCAN = 1000;

/** What listing reads. */
export interface BullmqListContext {
  readonly queue: Queue<BullmqJob['data'], unknown, string>;
  readonly client: Redis;
  readonly cancelledKey: string;
}

const BULLMQ_STATES: Record<Exclude<JobState, 'cancelled'>, readonly string[]> = {
  waiting: ['wait', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  active: ['active'],
  completed: ['completed'],
  failed: ['failed'],
};

function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    offset = undefined;
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `cursor "${cursor}" was not issued by this list; pass the nextCursor of the previous page`,
      {
        details: { cursor },
      },
    );
  }
  return offset;
}

/** One page of jobs, newest first. */
export async function listBullmqJobs(
  context: BullmqListContext,
  options: JobListOptions = {},
): Promise<Page<JobRecord>> {
  const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StratumError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`);
  }
  const offset = offsetOf(options.cursor);
  const records: JobRecord[] = [];
  for (const [state, types] of Object.entries(BULLMQ_STATES)) {
    if (
      options.state !== undefined &&
      options.state !== state &&
      !(options.state === 'cancelled' && state === 'failed')
    )
      continue;
    for (const type of types) {
      const jobs = (await context.queue.getJobs([type as 'wait'], 0, LIST_SCAN - 1, false)) as BullmqJob[];
      for (const job of jobs) {
        if (job === undefined || job === null) continue;
        const first = toJobRecordFromBullmq(job, state as JobState);
        const mapped = toJobState(type, first.error) ?? (state as JobState);
        records.push(mapped === first.state ? first : toJobRecordFromBullmq(job, mapped));
      }
    }
  }
  if (options.state === undefined || options.state === 'cancelled') {
    const cancelled = await context.client.hvals(context.cancelledKey);
    for (const text of cancelled.slice(0, LIST_SCAN)) records.push(JSON.parse(text) as JobRecord);
  }
  const filtered = records
    .filter((record) => options.state === undefined || record.state === options.state)
    .filter((record) => options.kind === undefined || record.kind === options.kind)
    .filter((record) => options.parentId === undefined || record.parentId === options.parentId)
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const size = Math.min(limit, MAX_PAGE_LIMIT);
  const items = filtered.slice(offset, offset + size);
  const next = offset + size < filtered.length;
  return {
    items,
    ...(next ? { nextCursor: Buffer.from(JSON.stringify({ offset: offset + size })).toString('base64url') } : {}),
  };
}
