// Experiments end to end on the embedded stores (SQLite + artifact folder) with a small synthetic
// table: in this process with ASHA, registering the best run with its lineage; as tune and trial
// jobs on the embedded queue; and resumed after the worker running the coordinator is killed
// (SIGKILL) — the queue recovers the tune job, and the experiment ends with each trial run once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '../../../src/artifacts/artifact-store.ts';
import { openArtifactStore } from '../../../src/artifacts/open-artifact-store.ts';
import { rungMilestones } from '../../../src/jobs/tune/asha.ts';
import { runExperiment } from '../../../src/jobs/tune/run-experiment.ts';
import { inProcessLauncher, jobFinished, queueLauncher, trialJobKey } from '../../../src/jobs/tune/trial-launchers.ts';
import { startJobWorker } from '../../../src/jobs/job-runner.ts';
import { checkSubmission, submitJob } from '../../../src/jobs/submit-job.ts';
import { trialInThread } from '../../../src/jobs/tune/trial-in-thread.ts';
import { StratumError } from '../../../src/errors/index.ts';
import { tuneJobHandlers } from '../../../src/jobs/tune/tune-jobs.ts';
import { parseInlineTuneSpec } from '../../../src/jobs/tune/tune-spec.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { JobQueue, JobRecord } from '../../../src/queue/job-queue.ts';
import { abortReasons } from '../../../src/queue/job-options.ts';
import { openJobQueue } from '../../../src/queue/open-job-queue.ts';
import { createRegistry, type Registry } from '../../../src/registry/registry.ts';
import type { MetadataStore, TrialRecord } from '../../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../../src/store/open-metadata-store.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { tuneSpecInput, writeTuneCsv } from './tune-data.ts';

const WORKER = fileURLToPath(new URL('./fixtures/tune-worker.ts', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'stratum-tune-'));
const databaseUrl = `sqlite:${join(folder, 'stratum.db')}`;
const artifactsUrl = `file:${join(folder, 'artifacts')}`;
const logger = createLogger({ level: 'error' });
let store: MetadataStore;
let artifacts: ArtifactStore;
let registry: Registry;
let dataPath: string;

before(async () => {
  dataPath = writeTuneCsv(folder);
  store = await openMetadataStore({ url: databaseUrl, pollMs: 50, logger });
  artifacts = await openArtifactStore({ url: artifactsUrl });
  registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: 64 * 1024 * 1024 });
});
after(async () => {
  await registry.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Every trial numbered once, 0…n−1, each finished with a run. */
function checkTrials(trials: readonly TrialRecord[], count: number): void {
  assert.deepEqual(
    trials.map((t) => t.number),
    Array.from({ length: count }, (_, i) => i),
  );
  for (const trial of trials) {
    assert.ok(
      trial.status === 'completed' || trial.status === 'stopped',
      `trial ${trial.number}: ${trial.status} ${trial.error ?? ''}`,
    );
    assert.ok(trial.runId !== undefined && trial.value !== undefined);
  }
}

describe('an experiment in this process', () => {
  test('ASHA stops the weaker trials at rungs; the best run is registered with its lineage', async () => {
    const spec = parseInlineTuneSpec(tuneSpecInput(dataPath));
    const id = randomUUID();
    const result = await runExperiment({
      id,
      spec,
      store,
      artifacts,
      registry,
      by: 'test',
      launcher: inProcessLauncher({ experimentId: id, context: { store, artifacts, by: 'test', baseDir: folder } }),
    });
    const { experiment, trials } = result;
    assert.equal(experiment.status, 'succeeded', experiment.error);
    checkTrials(trials, 6);

    // Stopped trials trained less than the budget, at a rung; completed ones the full 16 trees.
    const milestones = rungMilestones({ gracePeriod: 2, reductionFactor: 2, maxResource: 16 });
    assert.deepEqual(milestones, [2, 4, 8]);
    const stopped = trials.filter((t) => t.status === 'stopped');
    assert.ok(stopped.length >= 1, 'ASHA stopped at least one of six trials');
    for (const trial of stopped) assert.ok(milestones.includes(trial.resource as number), `resource ${trial.resource}`);
    for (const trial of trials.filter((t) => t.status === 'completed')) assert.equal(trial.resource, 16);
    // Every trial recorded its loss at each rung it reached; the first always goes on.
    const rungs = await store.rungResults(id);
    for (const trial of trials) {
      const reached = rungs.filter((r) => r.trial === trial.number).map((r) => r.rung);
      assert.deepEqual(
        reached,
        milestones.filter((m) => m <= (trial.resource as number)),
      );
    }
    assert.equal(trials[0]?.status, 'completed');

    // Each trial is a tracked run with its point and its losses by step.
    const run = await store.getRun(trials[1]?.runId as string);
    const params = (run.params as { model: { params: Record<string, unknown> } }).model.params;
    assert.equal(params.maxDepth, trials[1]?.params['model.params.maxDepth']);
    assert.equal(params.numTrees, 16);
    assert.equal((await store.runMetrics(run.id, { key: 'validation_loss' })).length, trials[1]?.resource);

    // The best by rmse is registered, with the run and the experiment in its lineage.
    const best = [...trials].sort((a, b) => (a.value as number) - (b.value as number))[0] as TrialRecord;
    assert.equal(experiment.bestTrial, best.number);
    assert.equal(experiment.bestValue, best.value);
    assert.deepEqual(experiment.registered, { model: 'synthetic-best', version: 1 });
    const version = await store.getVersion('synthetic-best', 1);
    assert.equal(version.lineage.runId, best.runId);
    assert.equal(version.lineage.experiment, id);
    assert.equal((await store.getAlias('synthetic-best', 'best')).version, 1);

    // Run again on the finished experiment: nothing more happens.
    const again = await runExperiment({
      id,
      spec,
      store,
      artifacts,
      registry,
      by: 'test',
      launcher: { launch: () => Promise.reject(new Error('no trial should run')) },
    });
    assert.equal(again.experiment.status, 'succeeded');
    assert.equal((await store.listVersions('synthetic-best')).items.length, 1);
  });
});

describe('an experiment on the embedded queue', () => {
  let queue: JobQueue;
  const queueName = `tune-${randomUUID()}`;
  before(async () => {
    queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name: queueName, pollMs: 50 });
  });
  after(() => queue.close());

  test('the tune job submits trial jobs (parent, idempotency key) and registers the best', async (t) => {
    const handlers = tuneJobHandlers({ store, artifacts, registry, queue });
    const worker = queue.work({
      concurrency: 3,
      handler: (job) => (job.record.kind === 'tune' ? handlers.tune(job) : handlers.trial(job)),
    });
    t.after(() => worker.close());
    const spec = parseInlineTuneSpec(
      tuneSpecInput(dataPath, {
        name: 'queued-tune',
        searcher: 'tpe',
        trials: 5,
        maxConcurrentTrials: 2,
        scheduler: 'none',
        register: { model: 'queued-best' },
      }),
    );
    const job = await queue.submit({ kind: 'tune', payload: { spec, baseDir: folder }, attempts: 1 });
    const finished = await jobFinished(queue, job.id);
    assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
    const experiment = await store.getExperiment(job.id);
    assert.equal(experiment.status, 'succeeded');
    assert.equal(experiment.jobId, job.id);
    checkTrials(await store.listTrials(job.id), 5);
    const children = await queue.list({ parentId: job.id, limit: 100 });
    assert.equal(children.items.length, 5);
    for (const child of children.items) {
      const { number } = child.payload as { number: number };
      assert.equal(child.kind, 'trial');
      assert.equal(child.idempotencyKey, trialJobKey(job.id, number));
      assert.equal(child.state, 'completed');
    }
    assert.deepEqual(finished.result, {
      experiment: job.id,
      status: 'succeeded',
      bestTrial: experiment.bestTrial,
      bestValue: experiment.bestValue,
      registered: { model: 'queued-best', version: 1 },
      trials: 5,
    });
  });

  test('trials run with stores of their own (as in a job thread); a cancelled tune job cancels its trials', async (t) => {
    const handlers = tuneJobHandlers({ store, artifacts, registry, queue });
    let trialsRun = 0;
    const worker = queue.work({
      concurrency: 2,
      handler: (job) => {
        if (job.record.kind === 'tune') return handlers.tune(job);
        trialsRun += 1;
        return trialInThread({ payload: job.record.payload, by: job.record.by, stores: { databaseUrl, artifactsUrl } });
      },
    });
    t.after(() => worker.close());
    const spec = parseInlineTuneSpec(
      tuneSpecInput(dataPath, { name: 'cancelled-tune', trials: 50, scheduler: 'none', register: { model: 'never' } }),
    );
    const job = await queue.submit({ kind: 'tune', payload: { spec, baseDir: folder }, attempts: 1 });
    // Cancel once two trials have finished.
    await new Promise<void>((resolve) => {
      let finishedTrials = 0;
      const unsubscribe = queue.onEvent((event) => {
        if (event.type !== 'completed' || event.jobId === job.id) return;
        if (++finishedTrials === 2) {
          unsubscribe();
          resolve();
        }
      });
    });
    await queue.cancel(job.id);
    const finished = await jobFinished(queue, job.id);
    assert.equal(finished.state, 'cancelled');
    const experiment = await store.getExperiment(job.id);
    assert.equal(experiment.status, 'cancelled');
    const trials = await store.listTrials(job.id);
    assert.ok(trials.length >= 2 && trials.length < 50, `${trials.length} trials`);
    assert.ok(trials.filter((tr) => tr.status === 'completed').length >= 2);
    // No trial job is left queued or running, and none ran that the experiment does not know.
    const children = await queue.list({ parentId: job.id, limit: 100 });
    for (const child of children.items) assert.ok(['completed', 'cancelled'].includes(child.state), child.state);
    assert.ok(trialsRun <= trials.length);
    assert.ok(experiment.bestTrial !== undefined);
    assert.equal(experiment.registered, undefined, 'a cancelled experiment registers nothing');
  });

  test("the worker's handlers: tune checked at submission, trials in job threads", async (t) => {
    const { tune } = tuneJobHandlers({ store, artifacts, registry, queue });
    const worker = startJobWorker({
      queue,
      config: { databaseUrl, artifactsUrl, registryPollMs: 50, bodyLimitBytes: 64 * 1024 * 1024, logLevel: 'error' },
      store,
      logger,
      concurrency: 3,
      extraHandlers: { tune },
    });
    t.after(() => worker.close());
    assert.ok(worker.kinds.includes('trial') && worker.kinds.includes('tune'));
    const input = tuneSpecInput(dataPath, { name: 'worker-tune', trials: 3, maxConcurrentTrials: 2 });
    assert.throws(
      () =>
        checkSubmission({
          kind: 'tune',
          payload: { spec: { ...input, space: { 'model.params.depth': { int: [1, 3] } } }, baseDir: folder },
        }),
      (error: unknown) =>
        error instanceof StratumError &&
        error.code === 'BAD_REQUEST' &&
        /space\.model\.params\.depth/.test(error.message),
    );
    const job = await submitJob(queue, { kind: 'tune', payload: { spec: input, baseDir: folder } });
    const finished = await jobFinished(queue, job.id);
    assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
    checkTrials(await store.listTrials(job.id), 3);
    assert.equal((await store.getExperiment(job.id)).status, 'succeeded');
  });

  test('a coordinator handed on (a shutdown) leaves its trials running; two coordinators at once register once', async (t) => {
    const spec = parseInlineTuneSpec(
      tuneSpecInput(dataPath, {
        name: 'handed-on-tune',
        trials: 4,
        maxConcurrentTrials: 2,
        scheduler: 'none',
        register: { model: 'handed-on-best' },
      }),
    );
    const id = randomUUID();
    const coordinator = (signal?: AbortSignal): ReturnType<typeof runExperiment> =>
      runExperiment({
        id,
        spec,
        store,
        artifacts,
        registry,
        by: 'test',
        launcher: queueLauncher({
          queue,
          experimentId: id,
          baseDir: folder,
          parentId: id,
          by: 'test',
          ...(signal !== undefined && { signal }),
        }),
        ...(signal !== undefined && { signal }),
      });
    // The first coordinator's worker shuts down once both of its first trials are queued.
    const controller = new AbortController();
    const first = coordinator(controller.signal);
    const children = (): Promise<JobRecord[]> =>
      queue.list({ parentId: id, limit: 100 }).then((page) => [...page.items]);
    await waitFor('two trial jobs queued', async () => (await children()).length === 2);
    controller.abort(abortReasons.shutdown(id));
    await assert.rejects(first, (error: unknown) => error instanceof StratumError && error.code === 'SHUTTING_DOWN');
    assert.equal((await store.getExperiment(id)).status, 'running', 'left for the next coordinator');
    for (const child of await children()) assert.equal(child.state, 'waiting', 'its trials were not cancelled');

    // Two coordinators at once (a queue that handed the job on while the first was only slow).
    const handlers = tuneJobHandlers({ store, artifacts, registry, queue });
    const worker = queue.work({ concurrency: 2, kinds: ['trial'], handler: handlers.trial });
    t.after(() => worker.close());
    const [b, c] = await Promise.all([coordinator(), coordinator()]);
    assert.equal(b.experiment.status, 'succeeded');
    assert.equal(c.experiment.status, 'succeeded');
    checkTrials(await store.listTrials(id), 4);
    assert.equal((await children()).length, 4, 'one trial job per trial');
    assert.equal((await store.listVersions('handed-on-best')).items.length, 1, 'the best registered once');
    assert.deepEqual((await store.getExperiment(id)).registered, { model: 'handed-on-best', version: 1 });
  });

  test('a coordinator killed mid-experiment is recovered by the queue and resumes without duplicates', async (t) => {
    const spec = parseInlineTuneSpec(
      tuneSpecInput(dataPath, { name: 'resumed-tune', trials: 6, register: { model: 'resumed-best' } }),
    );
    const job = await queue.submit({ kind: 'tune', payload: { spec, baseDir: folder }, attempts: 3 });
    const lockMs = 1500;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, JSON.stringify({ databaseUrl, artifactsUrl, queueName, lockMs })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout });
    let done = 0;
    for await (const line of lines) if (line.startsWith('trial ') && ++done === 2) break;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const before = await store.listTrials(job.id);
    const finishedBefore = new Map(
      before.filter((t) => t.status !== 'running').map((t) => [t.number, t.runId] as const),
    );
    assert.ok(finishedBefore.size >= 2);

    const handlers = tuneJobHandlers({ store, artifacts, registry, queue });
    const worker = queue.work({
      concurrency: 3,
      lockMs,
      handler: (active) => (active.record.kind === 'tune' ? handlers.tune(active) : handlers.trial(active)),
    });
    t.after(() => worker.close());
    const finished = await jobFinished(queue, job.id);
    assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
    assert.ok(finished.attemptsMade >= 2, 'the tune job ran again after its worker died');
    const trials = await store.listTrials(job.id);
    checkTrials(trials, 6);
    // The trials finished before the kill were not run again.
    for (const [number, runId] of finishedBefore) assert.equal(trials[number]?.runId, runId);
    // One trial job per trial: the rejoined ones were the same jobs (idempotency keys).
    const children = await queue.list({ parentId: job.id, limit: 100 });
    assert.equal(children.items.length, 6);
    assert.equal(new Set(children.items.map((c) => c.idempotencyKey)).size, 6);
    const experiment = await store.getExperiment(job.id);
    assert.equal(experiment.status, 'succeeded');
    assert.deepEqual(experiment.registered, { model: 'resumed-best', version: 1 });
  });
});
