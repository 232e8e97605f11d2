/**
 * A `train` job's effects happen once. Run by a real `stratum worker` process that is killed
 * (SIGKILL) mid-training, the job is recovered by a second worker once the first one's lock
 * expires, and exactly one version is registered; the abandoned run is finished as failed, saying
 * why. And a job whose training already registered (an attempt that died before completing the
 * job) returns that run and version when it runs again, without training. Waits are for states.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startJobWorker } from '../../src/jobs/job-runner.ts';
import { submitJob } from '../../src/jobs/submit-job.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { runInThread } from '../../src/jobs/thread-job.ts';
import type { JobRecord } from '../../src/queue/job-queue.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { JOB_PARAM } from '../../src/train/run/run-training.ts';
import { startCli } from '../helpers/cli-process.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { writeTrainingData } from './train-fixture.ts';

async function setUp(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-train-job-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const artifactsUrl = `file:${join(dir, 'artifacts')}`;
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, pollMs: 50 });
  t.after(() => queue.close());
  const store = await openMetadataStore({ url: databaseUrl });
  t.after(() => store.close());
  return { dir, databaseUrl, artifactsUrl, queue, store };
}

test('a worker killed mid-training: another finishes the job, and one version is registered', async (t) => {
  const { dir, databaseUrl, artifactsUrl, queue, store } = await setUp(t);
  const spec = await writeTrainingData(dir, { name: 'crash-once', numTrees: 400, count: 3000 });
  const job = await submitJob(queue, { kind: 'train', payload: { spec, baseDir: dir } });
  const env = {
    STRATUM_DATABASE_URL: databaseUrl,
    STRATUM_ARTIFACTS_URL: artifactsUrl,
    STRATUM_JOB_LOCK_MS: '1500',
    STRATUM_LOG_LEVEL: 'info',
  };
  const first = startCli(t, ['worker'], env);
  const training = (record: JobRecord): boolean =>
    record.state === 'active' && (record.progress?.data as { phase?: string } | undefined)?.phase === 'train';
  await waitFor('the first worker to be training', async () => {
    if (first.child.exitCode !== null) throw new Error(`worker exited: ${first.output()}`);
    return training(await queue.get(job.id));
  });
  first.child.kill('SIGKILL');
  await first.exited;

  const second = startCli(t, ['worker', '--concurrency', '2'], env);
  const done = await waitFor('the job to complete on the second worker', async () => {
    if (second.child.exitCode !== null) throw new Error(`worker exited: ${second.output()}`);
    const record = await queue.get(job.id);
    assert.notEqual(record.state, 'failed', JSON.stringify(record.error));
    return record.state === 'completed' ? record : undefined;
  });
  const result = done.result as { runId: string; version: { model: string; version: number }; reused: boolean };
  assert.deepEqual(result.version, { model: 'crash-once', version: 1 });
  assert.equal(result.reused, false);

  const versions = await store.listVersions('crash-once');
  assert.deepEqual(
    versions.items.map((v) => v.version),
    [1],
  );
  assert.equal(versions.items[0]?.lineage.runId, result.runId);
  const runs = (await store.listRuns({ name: 'crash-once' })).items;
  assert.deepEqual(runs.map((r) => r.status).sort(), ['failed', 'succeeded']);
  assert.ok(runs.every((r) => r.params[JOB_PARAM] === job.id));
  assert.match(runs.find((r) => r.status === 'failed')?.error ?? '', /abandoned: the worker running job/);
  // The worker logs the end after it records it: wait for the line, not for a moment.
  await waitFor('the second worker to log the job finished', () => second.output().includes('"job finished"'));

  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.output());
});

test('a train job that already registered returns its run and version when it runs again', async (t) => {
  const { dir, databaseUrl, artifactsUrl, store } = await setUp(t);
  const spec = await writeTrainingData(dir, { name: 'once-only', numTrees: 5 });
  const input = {
    kind: 'train',
    jobId: 'job-once-only',
    attempt: 1,
    payload: { spec, baseDir: dir },
    by: 'tester',
    logLevel: 'silent',
    stores: { databaseUrl, artifactsUrl, registryPollMs: 1000, bodyLimitBytes: 64 * 1024 * 1024 },
  };
  const controller = new AbortController();
  const progress: unknown[] = [];
  const job = { signal: controller.signal, progress: async (p: unknown) => void progress.push(p) };
  const first = (await runInThread({ input, job })) as { runId: string; version: object; reused: boolean };
  assert.equal(first.reused, false);
  assert.ok(progress.length > 0);
  const again = (await runInThread({ input: { ...input, attempt: 2 }, job })) as typeof first;
  assert.equal(again.reused, true);
  assert.equal(again.runId, first.runId);
  assert.deepEqual(again.version, first.version);
  assert.equal((await store.listVersions('once-only')).items.length, 1);
  assert.equal((await store.listRuns({ name: 'once-only' })).items.length, 1);
});

test('a cancelled train job stops its training thread and leaves its run failed, saying so', async (t) => {
  const { dir, databaseUrl, artifactsUrl, queue, store } = await setUp(t);
  const spec = await writeTrainingData(dir, { name: 'cancel-me', numTrees: 5000, count: 3000 });
  const config = {
    databaseUrl,
    artifactsUrl,
    registryPollMs: 1000,
    bodyLimitBytes: 1 << 26,
    logLevel: 'silent' as const,
  };
  const worker = startJobWorker({ queue, config, store, logger: createLogger({ level: 'silent' }) });
  t.after(() => worker.close(0));
  const job = await submitJob(queue, { kind: 'train', payload: { spec, baseDir: dir } });
  await waitFor('training to start', async () => {
    const record = await queue.get(job.id);
    return (record.progress?.data as { phase?: string } | undefined)?.phase === 'train';
  });
  await queue.cancel(job.id);
  await waitFor('the job to be cancelled', async () => (await queue.get(job.id)).state === 'cancelled');
  const runs = await waitFor('the run to be finished', async () => {
    const items = (await store.listRuns({ name: 'cancel-me' })).items;
    return items.every((r) => r.status !== 'running') ? items : undefined;
  });
  assert.equal(runs.length, 1);
  assert.equal(runs[0]?.status, 'failed');
  assert.match(runs[0]?.error ?? '', /stopped/);
  await assert.rejects(store.listVersions('cancel-me'));
});
