/**
 * The BullMQ engine's listing index: BullMQ keeps a job in one structure per state, each in its
 * own order (a list, or sorted sets by priority, run time or finish time), so "newest first across
 * states, page after page" needs an order of its own. Every submission gets a sequence number
 * (`<base>seq`) and is added, scored by it, to the sorted set of all jobs (`<base>jobs`), of its
 * kind (`<base>kind:<kind>`) and of its parent (`<base>parent:<id>`); `list` pages through these
 * by score, the way the embedded engine pages by its `seq` column. Entries are kept as long as the
 * jobs are (Stratum never removes a job: a cancelled one moves to the cancelled records).
 *
 * The submissions of one tick are indexed together in one script call, sent beside BullMQ's add
 * rather than after it, so the index costs a submitter one round trip per batch rather than per job.
 * A submission whose index write fails rejects, like one whose add fails; if the add went through,
 * that job runs but is not listed.
 */
import type { JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';
import type { JobRecord } from './job-queue.ts';
import type { BullmqJob } from './bullmq-job-records.ts';

/** The index's key names, under `<prefix>:<queue>:stratum:`. */
export interface JobIndexKeys {
  /** The prefix of the kind and parent sets. */
  readonly base: string;
  /** The sequence counter. */
  readonly seq: string;
  /** Every job by sequence number. */
  readonly all: string;
}

/** The index keys of queue `name` under `prefix`. */
export function jobIndexKeys(prefix: string, name: string): JobIndexKeys {
  const base = `${prefix}:${name}:stratum:`;
  return { base, seq: `${base}seq`, all: `${base}jobs` };
}

/** The sorted set holding the jobs a filter keeps: the parent's, else the kind's, else all. */
export function indexKeyFor(keys: JobIndexKeys, filter: { kind?: string; parentId?: string }): string {
  if (filter.parentId !== undefined) return `${keys.base}parent:${filter.parentId}`;
  if (filter.kind !== undefined) return `${keys.base}kind:${filter.kind}`;
  return keys.all;
}

/** A job to index. */
export interface IndexEntry {
  readonly id: string;
  readonly kind: string;
  readonly parentId?: string | undefined;
}

// ARGV: the base, then (id, kind, parent or '') per job, in submission order. NX: a job already
// indexed (an idempotency key submitted twice at once, a cancelled job retried) keeps its place.
const INDEX_SCRIPT = `
local base = ARGV[1]
local n = (#ARGV - 1) / 3
local seq = redis.call('INCRBY', KEYS[1], n) - n
for i = 0, n - 1 do
  local id, kind, parent = ARGV[2 + 3 * i], ARGV[3 + 3 * i], ARGV[4 + 3 * i]
  seq = seq + 1
  if redis.call('ZADD', KEYS[2], 'NX', seq, id) == 1 then
    redis.call('ZADD', base .. 'kind:' .. kind, seq, id)
    if parent ~= '' then redis.call('ZADD', base .. 'parent:' .. parent, seq, id) end
  end
end
return n
`;

/** Indexes submissions, batching those of one tick. */
export interface JobIndexWriter {
  /** Resolves once `entry` is indexed (with the other submissions of its tick). */
  add(entry: IndexEntry): Promise<void>;
}

// The script as a command of the client: sent by its SHA (ioredis loads it on first use).
interface IndexCommand {
  stratumIndexJobs(seqKey: string, allKey: string, ...args: string[]): Promise<number>;
}

/** A writer on `client`. */
export function createJobIndexWriter(client: Redis, keys: JobIndexKeys): JobIndexWriter {
  client.defineCommand('stratumIndexJobs', { numberOfKeys: 2, lua: INDEX_SCRIPT });
  const command = client as unknown as IndexCommand;
  let batch: IndexEntry[] = [];
  let written: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    const entries = batch;
    batch = [];
    written = undefined;
    const args: string[] = [keys.base];
    for (const entry of entries) args.push(entry.id, entry.kind, entry.parentId ?? '');
    await command.stratumIndexJobs(keys.seq, keys.all, ...args);
  };
  return {
    add(entry) {
      batch.push(entry);
      // Submissions made in the same tick (a burst of them, `Promise.all`) share one script call.
      written ??= Promise.resolve().then(flush);
      return written;
    },
  };
}

const BULLMQ_TYPES: JobType[] = ['wait', 'prioritized', 'waiting-children', 'delayed', 'active', 'completed', 'failed'];

/**
 * Indexes the jobs a queue held before it had an index (queued by an earlier version, or by plain
 * BullMQ), once per queue: the first process to open it after the upgrade does it. They are scored
 * below zero in the order they were created, so they list after every job submitted since, even
 * those submitted while this runs.
 */
export async function indexExistingJobs(options: {
  readonly queue: Queue<BullmqJob['data'], unknown, string>;
  readonly client: Redis;
  readonly keys: JobIndexKeys;
  readonly cancelledKey: string;
  readonly logger?: Logger | undefined;
}): Promise<void> {
  const { queue, client, keys, cancelledKey } = options;
  // The counter doubles as the "indexed" mark: only the process that creates it indexes.
  if ((await client.set(keys.seq, '0', 'NX')) === null) return;
  const jobs: { id: string; kind: string; parentId?: string | undefined; createdAt: number }[] = [];
  const ids = await queue.getRanges(BULLMQ_TYPES, 0, -1, false);
  const toKey = (id: string): string => queue.toKey(id);
  for (let start = 0; start < ids.length; start += 1000) {
    const pipeline = client.pipeline();
    const chunk = ids.slice(start, start + 1000);
    for (const id of chunk) pipeline.hmget(toKey(id), 'name', 'timestamp', 'data');
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((id, i) => {
      const [name, timestamp, data] = (replies[i]?.[1] ?? []) as (string | null)[];
      if (name === null || name === undefined) return;
      const parentId = parseParent(data ?? null);
      jobs.push({ id, kind: name, parentId, createdAt: Number(timestamp ?? 0) });
    });
  }
  for (const text of await client.hvals(cancelledKey)) {
    const record = JSON.parse(text) as JobRecord;
    jobs.push({ id: record.id, kind: record.kind, parentId: record.parentId, createdAt: record.createdAt });
  }
  jobs.sort((a, b) => a.createdAt - b.createdAt);
  for (let start = 0; start < jobs.length; start += 1000) {
    const pipeline = client.pipeline();
    jobs.slice(start, start + 1000).forEach((job, i) => {
      const score = start + i - jobs.length;
      pipeline.zadd(keys.all, 'NX', score, job.id);
      pipeline.zadd(`${keys.base}kind:${job.kind}`, 'NX', score, job.id);
      if (job.parentId !== undefined) pipeline.zadd(`${keys.base}parent:${job.parentId}`, 'NX', score, job.id);
    });
    await pipeline.exec();
  }
  if (jobs.length > 0) {
    options.logger?.info({ queue: queue.name, jobs: jobs.length }, 'indexed the jobs queued before the listing index');
  }
}

function parseParent(data: string | null): string | undefined {
  if (data === null) return undefined;
  try {
    const parentId = (JSON.parse(data) as { parentId?: unknown }).parentId;
    return typeof parentId === 'string' ? parentId : undefined;
  } catch {
    return undefined;
  }
}
