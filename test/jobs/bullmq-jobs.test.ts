/**
 * The BullMQ path: a server whose queue is Redis (127.0.0.1:6379, a queue name of its own,
 * obliterated afterwards) and a worker in this process. A `train` job submitted over the API runs
 * in a worker thread, its events reach the client as server-sent events to the final state, and
 * it registers one version; a bad submission is refused before it reaches Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { createApiClient, type JobUpdate } from '../../src/client/api-client.ts';
import { StratumError } from '../../src/errors/index.ts';
import { startJobWorker } from '../../src/jobs/job-runner.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { dropBullmqQueue } from '../../src/queue/drop-bullmq-queue.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { writeTrainingData } from './train-fixture.ts';

const queueUrl = 'redis://127.0.0.1:6379';

test('bullmq: a train job over the API runs once, followed to its end over server-sent events', async (t) => {
  const queueName = `test-jobs-${randomUUID()}`;
  t.after(() => dropBullmqQueue({ url: queueUrl, name: queueName }));
  const server = await startRegistryServer(t, {
    overrides: { queueUrl, shutdownGraceMs: 1000, jobs: { queueName } },
  });
  assert.equal(server.queue?.engine, 'bullmq');
  // With Redis, the server runs no worker of its own: workers are separate (here, in this process).
  const worker = startJobWorker({
    queue: server.queue!,
    config: {
      databaseUrl: server.databaseUrl,
      artifactsUrl: server.artifactsUrl,
      registryPollMs: 1000,
      bodyLimitBytes: 1 << 26,
      logLevel: 'silent',
    },
    store: server.registry!,
    logger: createLogger({ level: 'silent' }),
  });
  t.after(() => worker.close(0));

  const client = createApiClient({ baseUrl: server.httpUrl });
  await assert.rejects(
    client.submitJob({ kind: 'train', payload: { spec: { name: 'x' }, baseDir: '/tmp' } }),
    (error: unknown) => error instanceof StratumError && /payload\.spec\.data: missing/.test(error.message),
  );
  const spec = await writeTrainingData(server.dir, { name: 'bull-reviews', numTrees: 10 });
  const job = await client.submitJob({ kind: 'train', payload: { spec, baseDir: server.dir } });
  const updates: JobUpdate[] = [];
  const finished = await client.followJob(job.id, (u) => updates.push(u));
  assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
  assert.deepEqual((finished.result as { version: object }).version, { model: 'bull-reviews', version: 1 });
  assert.equal(updates[0]?.type, 'state');
  assert.ok(updates.some((u) => u.type === 'event' && u.event.type === 'progress'));
  assert.equal((await client.listVersions('bull-reviews')).items.length, 1);
  const listed = await client.listJobs({ kind: 'train' });
  assert.deepEqual(
    listed.items.map((j) => j.id),
    [job.id],
  );
});
