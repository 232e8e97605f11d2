// Pipeline specs: strict, every mistake named by its path before anything is stored; the spec
// file form (a training spec by path, folders relative to the file); the newest-file rule; the
// metric directions; cron schedules.
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { newestFile, patternRegExp } from '../../src/pipelines/newest-file.ts';
import { metricMode, nextScheduled, parsePipelineSpec } from '../../src/pipelines/pipeline-spec.ts';
import { readPipelineFile } from '../../src/pipelines/read-pipeline-file.ts';

const TRAIN = {
  name: 'churn-train',
  data: { source: { format: 'csv', path: 'data.csv' }, label: 'label' },
  features: { transforms: [{ column: 'x1', transform: 'standardize' }] },
  model: { kind: 'linear', objective: 'binary' },
  register: { model: 'churn' },
};

const SPEC = {
  name: 'churn-retrain',
  train: TRAIN,
  evaluate: { data: { source: { format: 'csv', path: 'holdout.csv' }, label: 'label' }, metric: 'roc_auc' },
  baseDir: '/data',
};

function refused(value: unknown): string {
  try {
    parsePipelineSpec(value);
  } catch (error) {
    assert.ok(error instanceof StratumError);
    assert.equal(error.code, 'BAD_REQUEST');
    return error.message;
  }
  assert.fail('the spec was accepted');
}

test('a minimal spec gets its defaults', () => {
  const spec = parsePipelineSpec(SPEC);
  assert.deepEqual(spec.aliases, { production: 'production', candidate: 'candidate' });
  assert.equal(spec.evaluate.margin, 0);
  assert.equal(spec.deploy, undefined);
  assert.deepEqual(spec.ingest, {});
});

test('bad fields are refused with their paths', () => {
  assert.match(refused({ ...SPEC, schedul: '0 3 * * *' }), /schedul/);
  assert.match(refused({ ...SPEC, schedule: 'every night' }), /schedule: not a cron expression/);
  assert.match(refused({ ...SPEC, evaluate: { ...SPEC.evaluate, margin: -1 } }), /evaluate\.margin/);
  assert.match(
    refused({ ...SPEC, train: { ...TRAIN, model: { kind: 'forest', objective: 'binary' } } }),
    /train\.model\.kind/,
  );
  assert.match(
    refused({ ...SPEC, deploy: { deployment: 'churn', canary: { steps: [10, 'x'] } } }),
    /deploy\.canary\.steps/,
  );
  assert.match(refused({ ...SPEC, baseDir: 'relative' }), /baseDir: must be an absolute path/);
  assert.match(refused({ ...SPEC, ingest: { newest: { dir: 'in', pattern: 'a/*.csv' } } }), /ingest\.newest\.pattern/);
  assert.match(
    refused({ ...SPEC, train: { ...TRAIN, register: undefined } }),
    /train\.register: the training spec must register/,
  );
  assert.match(
    refused({ ...SPEC, train: { ...TRAIN, register: { model: 'churn', alias: 'production' } } }),
    /train\.register\.alias: leave it out/,
  );
  assert.match(
    refused({ ...SPEC, aliases: { production: 'live', candidate: 'live' } }),
    /aliases: production and candidate must differ/,
  );
  assert.match(
    refused({
      ...SPEC,
      ingest: { newest: { dir: 'in', pattern: '*.csv' } },
      train: { ...TRAIN, data: { source: { format: 'sql', query: 'SELECT 1' }, label: 'label' } },
    }),
    /ingest\.newest: the training data must be a file/,
  );
});

test('metrics improve upwards except the errors', () => {
  assert.equal(metricMode('roc_auc'), 'max');
  assert.equal(metricMode('accuracy'), 'max');
  assert.equal(metricMode('r2'), 'max');
  assert.equal(metricMode('rmse'), 'min');
  assert.equal(metricMode('mae'), 'min');
  assert.equal(metricMode('log_loss'), 'min');
});

test('cron schedules are read in UTC', () => {
  const at = Date.parse('2026-12-05T02:59:00Z');
  assert.equal(new Date(nextScheduled('0 3 * * *', at) as number).toISOString(), '2026-12-05T03:00:00.000Z');
  assert.equal(new Date(nextScheduled('*/15 * * * *', at) as number).toISOString(), '2026-12-05T03:00:00.000Z');
});

test('the newest matching file wins; ties go to the later name; nothing matching is an error naming the folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-newest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, seconds] of [
    ['churn-2026-01.csv', 100],
    ['churn-2026-02.csv', 300],
    ['churn-2026-03.csv', 200],
    ['other.csv', 900],
  ] as const) {
    await writeFile(join(dir, name), 'x\n1\n');
    await utimes(join(dir, name), seconds, seconds);
  }
  const newest = await newestFile({ dir, pattern: 'churn-*.csv', baseDir: '/' });
  assert.equal(newest.path, join(dir, 'churn-2026-02.csv'));
  assert.equal(newest.matched, 3);
  await utimes(join(dir, 'churn-2026-03.csv'), 300, 300);
  assert.equal((await newestFile({ dir, pattern: 'churn-*.csv', baseDir: '/' })).path, join(dir, 'churn-2026-03.csv'));
  assert.equal(patternRegExp('a?c.csv').test('abc.csv'), true);
  assert.equal(patternRegExp('a?c.csv').test('abcxcsv'), false, 'a dot is a dot');
  await assert.rejects(newestFile({ dir, pattern: '*.parquet', baseDir: '/' }), /no file in .* matches "\*\.parquet"/);
  await assert.rejects(
    newestFile({ dir: 'missing', pattern: '*', baseDir: dir }),
    /ingest\.newest\.dir: cannot read .*missing \(ENOENT\)/,
  );
});

test('a spec file takes its training spec by path and its folder as the base', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-pipeline-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'train.yaml'), JSON.stringify(TRAIN));
  await writeFile(
    join(dir, 'retrain.yaml'),
    `name: churn-retrain
schedule: "0 3 * * *"
train: train.yaml
evaluate:
  data: { source: { format: csv, path: holdout.csv }, label: label }
  metric: roc_auc
  margin: 0.01
`,
  );
  const spec = await readPipelineFile(join(dir, 'retrain.yaml'));
  assert.equal(spec.baseDir, dir);
  assert.equal(spec.train.name, 'churn-train');
  assert.equal(spec.schedule, '0 3 * * *');
  await writeFile(join(dir, 'bad.yaml'), 'name: x\ntrain: train.yaml\nevaluate: { metric: auc }\n');
  await assert.rejects(readPipelineFile(join(dir, 'bad.yaml')), /pipeline spec .*bad\.yaml: .*evaluate\.data/);
  await assert.rejects(readPipelineFile(join(dir, 'none.yaml')), /none\.yaml: cannot read the pipeline spec/);
});
