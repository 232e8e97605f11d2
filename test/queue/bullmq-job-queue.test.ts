/**
 * The job queue conformance suite on BullMQ against the real Redis on 127.0.0.1:6379 (a unique
 * queue name per test, obliterated afterwards), plus Redis going away mid-run on a private
 * redis-server this test starts, kills and restarts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { after, test } from 'node:test';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { jobQueueConformance } from './job-queue-conformance.ts';

const OUTAGE_FIXTURE = fileURLToPath(new URL('./fixtures/redis-outage.ts', import.meta.url));

const queueUrl = 'redis://127.0.0.1:6379';
const names: string[] = [];
const redis = new Redis(queueUrl);
after(async () => {
  for (const name of names) {
    const queue = new Queue(name, { connection: { url: queueUrl }, prefix: 'stratum' });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.del(`stratum:${name}:stratum:cancelled`);
  }
  await redis.quit();
});

jobQueueConformance('bullmq', async (name) => {
  names.push(name);
  const queue = await openJobQueue({ queueUrl, databaseUrl: 'sqlite::memory:', name });
  return { queue, connection: { queueUrl, databaseUrl: 'sqlite::memory:', name } };
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
