/**
 * `list` on BullMQ: pages newest first through the listing index (`bullmq-job-index.ts`) with the
 * embedded engine's cursor (the sequence number of the page's last job), reading each candidate's
 * state and data and keeping those that pass the filters, however many jobs the queue holds. With
 * a state filter, the candidates can come from BullMQ's own sets for that state instead, when
 * those are the smaller place to look (a few failed jobs among many completed ones).
 */
import type { JobType } from 'bullmq';
import type { Page } from '../store/metadata-store.ts';
import { pageRequest, toPage } from '../store/page-cursor.ts';
import type { JobListOptions, JobRecord, JobState } from './job-queue.ts';
import { type BullmqQueueContext, readBullmqJob } from './bullmq-job-ops.ts';
import { indexKeyFor } from './bullmq-job-index.ts';

/** A job the index names, and its place in it. */
interface Candidate {
  readonly id: string;
  readonly seq: number;
}

/** BullMQ's sets of each of our states (a cancelled job sits in `failed` until it is moved out). */
const STATE_TYPES: Record<JobState, readonly JobType[]> = {
  waiting: ['wait', 'prioritized', 'waiting-children'],
  delayed: ['delayed'],
  active: ['active'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['failed'],
};

// Reading a job (its state and its hash) costs about as much as reading this many ids of a set.
const READ_COST = 20;
// Largest number of ids asked of Redis in one command.
const MAX_CHUNK = 1000;

/** One page of jobs, newest first. */
export async function listBullmqJobs(
  context: BullmqQueueContext,
  options: JobListOptions = {},
): Promise<Page<JobRecord>> {
  const page = pageRequest(options, 'number');
  const { limit } = page;
  const after = typeof page.after === 'number' ? page.after : undefined;
  const key = indexKeyFor(context.indexKeys, options);
  const candidates =
    options.state === undefined
      ? scanIndex(context, { key, after, first: limit + 1 })
      : await scanState(context, { key, after, limit, state: options.state });
  const kept: { record: JobRecord; seq: number }[] = [];
  for await (const chunk of candidates) {
    const found = await Promise.all(chunk.map((candidate) => readBullmqJob(context, candidate.id)));
    found.forEach((job, i) => {
      const seq = chunk[i]?.seq;
      if (job !== undefined && seq !== undefined && matches(job.record, options))
        kept.push({ record: job.record, seq });
    });
    // One more than the page: it only says that another page follows.
    if (kept.length > limit) break;
  }
  return toPage(kept, { limit, map: (item) => item.record, key: (item) => item.seq });
}

function matches(record: JobRecord, options: JobListOptions): boolean {
  return (
    (options.state === undefined || record.state === options.state) &&
    (options.kind === undefined || record.kind === options.kind) &&
    (options.parentId === undefined || record.parentId === options.parentId)
  );
}

/** The index's jobs below `after`, newest first, in chunks growing from `first` (filters may drop some). */
async function* scanIndex(
  context: BullmqQueueContext,
  options: { key: string; after: number | undefined; first: number },
): AsyncGenerator<Candidate[]> {
  let bound = options.after === undefined ? '+inf' : `(${options.after}`;
  let size = Math.min(options.first, MAX_CHUNK);
  for (;;) {
    const reply = await context.client.zrevrangebyscore(options.key, bound, '-inf', 'WITHSCORES', 'LIMIT', 0, size);
    const chunk = pairs(reply);
    const last = chunk.at(-1);
    if (last === undefined) return;
    yield chunk;
    if (chunk.length < size) return;
    bound = `(${last.seq}`;
    size = Math.min(size * 4, MAX_CHUNK);
  }
}

/**
 * The candidates of a state filter: through the index, or from BullMQ's sets of that state (all
 * their ids, placed by the index, which also drops those outside the kind or parent filtered on),
 * whichever reads less.
 */
async function scanState(
  context: BullmqQueueContext,
  options: { key: string; after: number | undefined; limit: number; state: JobState },
): Promise<AsyncIterable<Candidate[]> | Iterable<Candidate[]>> {
  const { key, after, limit, state } = options;
  const types = [...STATE_TYPES[state]];
  const [indexed, counts, cancelled] = await Promise.all([
    context.client.zcard(key),
    context.queue.getJobCounts(...types),
    state === 'cancelled' ? context.client.hlen(context.cancelledKey) : Promise.resolve(0),
  ]);
  const inState = Object.values(counts).reduce((sum, n) => sum + n, 0) + cancelled;
  // Through the index, about `indexed / inState` jobs are read for each one kept.
  const viaIndex = (limit + 1) * (indexed / Math.max(1, inState)) * READ_COST;
  const viaState = inState + (limit + 1) * READ_COST;
  if (viaIndex <= viaState) return scanIndex(context, { key, after, first: limit + 1 });
  const ids = await context.queue.getRanges(types, 0, -1, false);
  if (state === 'cancelled') ids.push(...(await context.client.hkeys(context.cancelledKey)));
  const placed: Candidate[] = [];
  for (let start = 0; start < ids.length; start += MAX_CHUNK) {
    const chunk = ids.slice(start, start + MAX_CHUNK);
    const scores = await context.client.zmscore(key, ...chunk);
    chunk.forEach((id, i) => {
      const score = scores[i];
      if (score === null || score === undefined) return;
      const seq = Number(score);
      if (after === undefined || seq < after) placed.push({ id, seq });
    });
  }
  placed.sort((a, b) => b.seq - a.seq);
  return chunked(placed, limit + 1);
}

/** `items` in chunks growing from `first`. */
function* chunked<T>(items: readonly T[], first: number): Generator<T[]> {
  let size = Math.min(first, MAX_CHUNK);
  for (let start = 0; start < items.length; start += size, size = Math.min(size * 4, MAX_CHUNK)) {
    yield items.slice(start, start + size);
  }
}

/** `[member, score, member, score, …]` as candidates. */
function pairs(reply: readonly string[]): Candidate[] {
  const candidates: Candidate[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    candidates.push({ id: reply[i] as string, seq: Number(reply[i + 1]) });
  }
  return candidates;
}
