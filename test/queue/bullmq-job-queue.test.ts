/**
 * The job queue conformance suite on BullMQ against the real Redis on 127.0.0.1:6379 (a unique
 * queue name per test, obliterated afterwards), plus Redis going away mid-run on a private
 * redis-server this test starts, kills and restarts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { after, test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import type { JobRecord } from '../../src/queue/job-queue.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { jobQueueConformance, waitForJob } from './job-queue-conformance.ts';

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

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a private redis-server and resolves once it accepts connections. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    if (/Ready to accept connections/.test(String(line))) break;
  }
  child.stdout?.resume();
  return child;
}

test('bullmq: with Redis gone, calls fail at once with QUEUE_UNAVAILABLE; the worker resumes when it is back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-redis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  let redisServer = await startRedis(port, dir);
  t.after(() => redisServer.kill('SIGKILL'));
  const queue = await openJobQueue({
    queueUrl: `redis://127.0.0.1:${port}`,
    databaseUrl: 'sqlite::memory:',
    name: 'outage',
  });
  t.after(() => queue.close());
  const worker = queue.work({ handler: async (job) => ({ echo: job.record.payload }) });
  t.after(() => worker.close());
  const before = await queue.submit({ kind: 'noop', payload: 1 });
  await waitForJob(queue, before.id, (job) => job.state === 'completed');

  const exited = once(redisServer, 'exit');
  redisServer.kill('SIGKILL');
  await exited;
  await assert.rejects(queue.submit({ kind: 'noop', payload: 2 }), (error: unknown) => {
    return error instanceof StratumError && error.code === 'QUEUE_UNAVAILABLE' && error.message.includes(`${port}`);
  });
  await assert.rejects(
    queue.counts(),
    (error: unknown) => error instanceof StratumError && error.code === 'QUEUE_UNAVAILABLE',
  );

  redisServer = await startRedis(port, dir);
  // The queue's connection comes back by itself; each refusal below is immediate, not a hang.
  let after: JobRecord | undefined;
  while (after === undefined) {
    after = await queue.submit({ kind: 'noop', payload: 3 }).catch((error: unknown) => {
      if (!(error instanceof StratumError) || error.code !== 'QUEUE_UNAVAILABLE') throw error;
      return new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)));
    });
  }
  const completed = await waitForJob(queue, after.id, (job) => job.state === 'completed');
  assert.deepEqual(completed.result, { echo: 3 });
});
