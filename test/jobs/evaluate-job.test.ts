/**
 * `evaluate` jobs end to end on `stratum serve`'s in-process worker: a model trained by the
 * project's own trainer (a `train` job), evaluated through onnxruntime on the rows training held
 * out, reports the metrics training reported on them; the evaluation is recorded as a run; bad
 * input fails the job with an error naming what and where.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { api } from '../helpers/management-api.ts';
import { runCli } from '../helpers/run-cli.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { writeTrainingData } from './train-fixture.ts';
import { writeTuneCsv } from './tune/tune-data.ts';

/** Submits a job through the API and waits for it to finish; returns its record. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a job record as JSON, read field by field
async function runJob(server: RegistryServer, body: unknown): Promise<any> {
  const submitted = await api(server, { url: '/api/v1/jobs', body });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id = submitted.json.id as string;
  return waitFor(`job ${id} to finish`, async () => {
    const reply = await api(server, { url: `/api/v1/jobs/${id}` });
    return ['completed', 'failed', 'cancelled'].includes(reply.json.state as string) ? reply.json : undefined;
  });
}

/**
 * The rows training held out: its split draws one number per row from mulberry32(seed) and holds
 * the row out when it is below the fraction (`run-training.ts`), computed again here.
 */
function heldOut<T>(rows: readonly T[], options: { seed: number; fraction: number }): T[] {
  const random = mulberry32(options.seed);
  return rows.filter(() => random() < options.fraction);
}

const CLASSIFIER_METRICS = ['accuracy', 'balanced_accuracy', 'f1_macro', 'roc_auc', 'pr_auc', 'log_loss'] as const;

test('evaluate scores a trained classifier on its held-out rows exactly as training did, and records a run', async (t) => {
  const server = await startRegistryServer(t);
  const spec = await writeTrainingData(server.dir, { name: 'eval-model', numTrees: 20 });
  const trained = await runJob(server, { kind: 'train', payload: { spec, baseDir: server.dir } });
  assert.equal(trained.state, 'completed', JSON.stringify(trained.error));
  const trainingRun = (await api(server, { url: `/api/v1/runs/${trained.result.runId}` })).json;

  const lines = (await readFile(join(server.dir, 'rows.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  const held = heldOut(lines, { seed: 0, fraction: 0.2 });
  await writeFile(join(server.dir, 'held.jsonl'), `${held.join('\n')}\n`);
  const data = { source: { format: 'jsonl', path: 'held.jsonl' }, label: 'label' };

  const evaluated = await runJob(server, {
    kind: 'evaluate',
    payload: { model: 'eval-model', alias: 'production', data, baseDir: server.dir },
  });
  assert.equal(evaluated.state, 'completed', JSON.stringify(evaluated.error));
  const result = evaluated.result;
  assert.equal(result.model, 'eval-model');
  assert.equal(result.version, 1);
  assert.equal(result.task, 'classification');
  assert.equal(result.data.rows, held.length);
  assert.equal(result.data.scored, held.length);
  assert.equal(result.unscored.rows, 0);
  // Training scored these rows with its TypeScript predictions; here onnxruntime ran the exported graph.
  for (const metric of CLASSIFIER_METRICS) {
    assertClose(result.metrics[metric], trainingRun.metrics[metric], { atol: 1e-5, label: metric });
  }
  assert.equal(result.evaluation.count, held.length);
  assert.deepEqual(result.evaluation.classes, ['0', '1']);

  const run = (await api(server, { url: `/api/v1/runs/${result.runId}` })).json;
  assert.equal(run.status, 'succeeded');
  assert.equal(run.name, 'evaluate.eval-model');
  assert.equal(run.params.model, 'eval-model');
  assert.equal(run.params.version, 1);
  assert.equal(run.params['stratum.job'], evaluated.id);
  assert.match(run.datasetVersion, /^sha256:/);
  assert.equal(run.metrics.accuracy, result.metrics.accuracy);
  assert.ok(run.artifacts.some((a: { name: string }) => a.name === 'evaluation.json'));

  // The same version by number, not recorded: the same metrics.
  const byNumber = await runJob(server, {
    kind: 'evaluate',
    payload: { model: 'eval-model', version: 1, data, baseDir: server.dir, record: false },
  });
  assert.equal(byNumber.state, 'completed', JSON.stringify(byNumber.error));
  assert.deepEqual(byNumber.result.metrics, result.metrics);
  assert.equal(byNumber.result.runId, undefined);

  // `stratum evaluate` runs the same evaluation in its own process, on the same stores.
  const cli = await runCli(
    [
      'evaluate',
      'eval-model@production',
      '--data',
      join(server.dir, 'held.jsonl'),
      '--label',
      'label',
      '--json',
      '--record',
    ],
    { STRATUM_DATABASE_URL: server.databaseUrl, STRATUM_ARTIFACTS_URL: server.artifactsUrl },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const printed = JSON.parse(cli.stdout) as { metrics: Record<string, number>; runId: string; version: number };
  assert.deepEqual(printed.metrics, result.metrics);
  assert.equal(printed.version, 1);
  const cliRun = (await api(server, { url: `/api/v1/runs/${printed.runId}` })).json;
  assert.equal(cliRun.name, 'evaluate.eval-model');
  const table = await runCli(
    ['evaluate', 'eval-model:1', '--data', join(server.dir, 'held.jsonl'), '--label', 'label'],
    {
      STRATUM_DATABASE_URL: server.databaseUrl,
      STRATUM_ARTIFACTS_URL: server.artifactsUrl,
    },
  );
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^eval-model:1 on \\S+held\\.jsonl: ${held.length} rows scored$`, 'm'));
  assert.match(table.stdout, new RegExp(`^roc_auc\\s+${result.metrics.roc_auc.toFixed(5)}$`, 'm'));
});

test('evaluate scores a trained regressor on its held-out rows as training did', async (t) => {
  const server = await startRegistryServer(t);
  const csv = writeTuneCsv(server.dir, 400);
  const spec = {
    name: 'eval-regressor',
    data: { source: { format: 'csv', path: csv }, label: 'y' },
    split: { validation: 0.25, seed: 3 },
    features: { transforms: ['x1', 'x2', 'x3'].map((column) => ({ column, transform: 'standardize' })) },
    model: { kind: 'gbdt', objective: 'regression', params: { numTrees: 12, maxDepth: 3 } },
    register: { model: 'eval-regressor' },
  };
  const trained = await runJob(server, { kind: 'train', payload: { spec, baseDir: server.dir } });
  assert.equal(trained.state, 'completed', JSON.stringify(trained.error));
  const trainingRun = (await api(server, { url: `/api/v1/runs/${trained.result.runId}` })).json;
  const [header, ...rows] = (await readFile(csv, 'utf8')).split('\n').filter((l) => l !== '');
  await writeFile(
    join(server.dir, 'held.csv'),
    `${[header, ...heldOut(rows, { seed: 3, fraction: 0.25 })].join('\n')}\n`,
  );

  const evaluated = await runJob(server, {
    kind: 'evaluate',
    payload: {
      model: 'eval-regressor',
      data: { source: { format: 'csv', path: 'held.csv' }, label: 'y' },
      baseDir: server.dir,
    },
  });
  assert.equal(evaluated.state, 'completed', JSON.stringify(evaluated.error));
  assert.equal(evaluated.result.task, 'regression');
  for (const metric of ['rmse', 'mae', 'r2']) {
    assertClose(evaluated.result.metrics[metric], trainingRun.metrics[metric], { atol: 1e-5, label: metric });
  }
});

test('a bad evaluate job fails with an error naming what and where', async (t) => {
  const server = await startRegistryServer(t);
  const spec = await writeTrainingData(server.dir, { name: 'eval-bad', numTrees: 5 });
  const trained = await runJob(server, { kind: 'train', payload: { spec, baseDir: server.dir } });
  assert.equal(trained.state, 'completed', JSON.stringify(trained.error));
  const source = { format: 'jsonl', path: 'rows.jsonl' };
  const evaluate = (payload: Record<string, unknown>) =>
    runJob(server, {
      kind: 'evaluate',
      payload: { model: 'eval-bad', data: { source, label: 'label' }, baseDir: server.dir, ...payload },
    });

  const unknownModel = await evaluate({ model: 'no-such-model' });
  assert.equal(unknownModel.state, 'failed');
  assert.equal(unknownModel.error.code, 'MODEL_NOT_FOUND');
  assert.match(unknownModel.error.message, /no-such-model/);

  const unknownAlias = await evaluate({ alias: 'nowhere' });
  assert.equal(unknownAlias.error.code, 'ALIAS_NOT_FOUND');

  const noLabel = await evaluate({ data: { source, label: 'outcome' } });
  assert.equal(noLabel.error.code, 'BAD_REQUEST');
  assert.match(noLabel.error.message, /rows\.jsonl: line 1: no column "outcome" \(the label\)/);

  const rows = (await readFile(join(server.dir, 'rows.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  const withoutCity = rows.map((line) => {
    const row = JSON.parse(line) as Record<string, unknown>;
    delete row.city;
    return JSON.stringify(row);
  });
  await writeFile(join(server.dir, 'no-city.jsonl'), `${withoutCity.join('\n')}\n`);
  const noFeature = await evaluate({ data: { source: { format: 'jsonl', path: 'no-city.jsonl' }, label: 'label' } });
  assert.equal(noFeature.error.code, 'BAD_REQUEST');
  assert.match(
    noFeature.error.message,
    /no-city\.jsonl: line 1: no column "city" \(model eval-bad:1 takes it as input "city"\)/,
  );

  const otherClass = rows.map((line, i) => (i === 2 ? JSON.stringify({ ...JSON.parse(line), label: 'maybe' }) : line));
  await writeFile(join(server.dir, 'other-class.jsonl'), `${otherClass.join('\n')}\n`);
  const badClass = await evaluate({ data: { source: { format: 'jsonl', path: 'other-class.jsonl' }, label: 'label' } });
  assert.equal(badClass.error.code, 'BAD_REQUEST');
  assert.match(
    badClass.error.message,
    /other-class\.jsonl: line 3: column "label": "maybe" is not a class of model eval-bad:1 \(classes: "0", "1"\)/,
  );

  // Refused at submission: nothing is queued.
  const both = await api(server, {
    url: '/api/v1/jobs',
    body: {
      kind: 'evaluate',
      payload: {
        model: 'eval-bad',
        version: 1,
        alias: 'production',
        data: { source, label: 'label' },
        baseDir: server.dir,
      },
    },
  });
  assert.equal(both.status, 400);
  assert.match(both.json.error, /give version or alias, not both/);
});
