// A run taken over by a second coordinator (its first worker died): the steps the store says
// succeeded are not run again — no second training job — and the run goes on from there.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPipeline } from '../../src/jobs/pipeline/run-pipeline.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { parsePipelineSpec } from '../../src/pipelines/pipeline-spec.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('a resumed run skips the steps that succeeded and finishes the rest', async (t) => {
  const server = await startRegistryServer(t);
  const random = mulberry32(7);
  const lines = Array.from({ length: 400 }, () => {
    const x1 = random() * 2 - 1;
    return `${x1.toFixed(4)},${x1 > 0 ? 1 : 0}`;
  });
  await writeFile(join(server.dir, 'data.csv'), `x1,label\n${lines.join('\n')}\n`);
  const train = {
    name: 'resume-train',
    data: { source: { format: 'csv', path: 'data.csv' }, label: 'label' },
    features: { transforms: [{ column: 'x1', transform: 'standardize' }] },
    model: { kind: 'linear', objective: 'binary' },
    register: { model: 'resume' },
    card: { importance: false },
  };
  // What the first coordinator did before it died: trained version 1 as the run's child job.
  const submitted = await api(server, {
    url: '/api/v1/jobs',
    body: { kind: 'train', payload: { spec: train, baseDir: server.dir } },
  });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const trained = await waitFor('the training job', async () => {
    const job = (await api(server, { url: `/api/v1/jobs/${submitted.json.id as string}` })).json;
    return job.state === 'completed' ? job : undefined;
  });
  const spec = parsePipelineSpec({
    name: 'resume',
    train,
    evaluate: { data: { source: { format: 'csv', path: 'data.csv' }, label: 'label' }, metric: 'accuracy' },
    baseDir: server.dir,
  });
  const registry = server.registry as NonNullable<typeof server.registry>;
  const store = await openMetadataStore({ url: server.databaseUrl });
  t.after(() => store.close());
  const id = 'run-resumed';
  await store.createPipelineRun({ id, pipeline: 'resume', trigger: { kind: 'manual' }, spec, by: 'test' });
  const startedAt = Date.now();
  await store.updatePipelineRun({
    id,
    status: 'running',
    steps: [
      {
        name: 'ingest',
        status: 'succeeded',
        startedAt,
        finishedAt: startedAt,
        inputs: {},
        outputs: { source: train.data.source },
      },
      {
        name: 'train',
        status: 'succeeded',
        startedAt,
        finishedAt: startedAt,
        inputs: {},
        outputs: { job: trained.id, runId: trained.result.runId, model: 'resume', version: 1, metrics: {} },
      },
      // It died while evaluating: this step runs again.
      { name: 'evaluate', status: 'running', startedAt, inputs: {} },
    ],
  });

  const options = {
    id,
    spec,
    trigger: { kind: 'manual' as const },
    by: 'pipeline:resume',
    store,
    context: { registry, queue: server.queue as NonNullable<typeof server.queue> },
    logger: createLogger({ level: 'silent' }),
  };
  const run = await runPipeline(options);
  assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
  const steps = run.steps as { name: string; status: string; startedAt: number }[];
  assert.deepEqual(
    steps.map((s) => [s.name, s.status]),
    ['ingest', 'train', 'evaluate', 'gate', 'register'].map((name) => [name, 'succeeded']),
  );
  assert.equal(steps[2]?.startedAt, startedAt, 'the evaluate step keeps its first start');
  // No second training: the only train job is the first coordinator's.
  const trains = (await api(server, { url: '/api/v1/jobs?kind=train' })).json.items as { id: string }[];
  assert.deepEqual(
    trains.map((j) => j.id),
    [trained.id],
  );
  assert.equal((await api(server, { url: '/api/v1/models/resume/aliases/candidate' })).json.version, 1);
  // Recorded again, the finished run is returned as it is.
  const again = await runPipeline(options);
  assert.deepEqual(again, run);
});
