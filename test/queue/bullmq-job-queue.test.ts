/**
 * The job queue conformance suite on BullMQ against the real Redis on 127.0.0.1:6379 (a unique
 * queue name per test, obliterated afterwards), plus Redis going away mid-run on a private
 * redis-server this test starts, kills and restarts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import { dropBullmqQueue } from '../../src/queue/drop-bullmq-queue.ts';
import type { JobListOptions, JobQueue } from '../../src/queue/job-queue.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { jobQueueConformance } from './job-queue-conformance.ts';

const OUTAGE_FIXTURE = fileURLToPath(new URL('./fixtures/redis-outage.ts', import.meta.url));

const queueUrl = 'redis://127.0.0.1:6379';
const names: string[] = [];
after(async () => {
  for (const name of names) await dropBullmqQueue({ url: queueUrl, name });
});

jobQueueConformance('bullmq', async (name) => {
  names.push(name);
  const queue = await openJobQueue({ queueUrl, databaseUrl: 'sqlite::memory:', name });
  return { queue, connection: { queueUrl, databaseUrl: 'sqlite::memory:', name } };
});

test('bullmq: jobs queued before the listing index existed are indexed once, older than every new job', async (t) => {
  const name = `pre-${randomUUID().slice(0, 8)}`;
  names.push(name);
  // Queued by plain BullMQ, as an earlier version of Stratum did: no index entries.
  const raw = new Queue(name, { connection: { url: queueUrl }, prefix: 'stratum' });
  const createdAt = Date.now() - 60_000;
  for (let i = 0; i < 3; i++) {
    const data = { payload: i, ...(i === 1 ? { parentId: 'parent-1' } : {}) };
    await raw.add('noop', data, { jobId: `old-${i}`, timestamp: createdAt + i });
  }
  await raw.close();
  const open = () => openJobQueue({ queueUrl, databaseUrl: 'sqlite::memory:', name });
  const queue = await open();
  t.after(() => queue.close());
  const fresh = await queue.submit({ kind: 'noop', payload: 'new' });
  const ids = async (q: JobQueue, options?: JobListOptions): Promise<string[]> =>
    (await q.list(options)).items.map((job) => job.id);
  assert.deepEqual(await ids(queue), [fresh.id, 'old-2', 'old-1', 'old-0']);
  assert.deepEqual(await ids(queue, { parentId: 'parent-1' }), ['old-1']);
  assert.deepEqual(await ids(queue, { kind: 'noop', limit: 2 }), [fresh.id, 'old-2']);
  // Opening it again indexes nothing twice and moves nothing.
  const again = await open();
  t.after(() => again.close());
  assert.deepEqual(await ids(again), [fresh.id, 'old-2', 'old-1', 'old-0']);
});

test('bullmq: with Redis gone, calls fail at once with QUEUE_UNAVAILABLE; the worker resumes when it is back', async () => {
  // In a child process: BullMQ leaves a connection reconnecting to the killed server behind,
  // which would keep this test process from exiting; the child exits once it has checked.
  const child = spawn(process.execPath, ['--import', 'tsx', OUTAGE_FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, output);
  assert.match(output, /^outage ok/m);
});
