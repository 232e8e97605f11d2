/**
 * A tracked training run end to end on the embedded store (SQLite + artifact folder): a CSV with
 * numbers, missing values, categories and text → features → GBDT or logistic regression → run with
 * metrics by step, dataset version with its profile, artifacts, a registered version with lineage
 * and an alias, whose ONNX answers raw columns like the TypeScript reference. Then bad input: each
 * refused with the file, line (or row) and column named, recorded as a failed run, nothing registered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { openArtifactStore } from '../../../src/artifacts/open-artifact-store.ts';
import type { ArtifactStore } from '../../../src/artifacts/artifact-store.ts';
import type { DatasetProfile } from '../../../src/data/profile/index.ts';
import { StratumError } from '../../../src/errors/index.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createRegistry, type Registry } from '../../../src/registry/registry.ts';
import type { MetadataStore } from '../../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../../src/store/open-metadata-store.ts';
import { mulberry32 } from '../../../src/random/mulberry32.ts';
import { predictPipeline } from '../../../src/train/pipeline/export-pipeline.ts';
import { runTraining, type TrainingContext } from '../../../src/train/run/run-training.ts';
import { parseTrainSpec, type TrainSpecInput } from '../../../src/train/run/train-spec.ts';
import { tabularRows } from '../pipeline/tabular-data.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-run-training-'));
let store: MetadataStore;
let artifacts: ArtifactStore;
let registry: Registry;
let context: TrainingContext;

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

function writeCsv(name: string, header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const path = join(folder, name);
  writeFileSync(path, [header.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n');
  return path;
}

const COLUMNS = ['age', 'income', 'city', 'review', 'label'] as const;
let dataPath: string;

function spec(overrides: Partial<TrainSpecInput> & { model?: TrainSpecInput['model'] } = {}): TrainSpecInput {
  return {
    name: 'reviews',
    data: { source: { format: 'csv', path: dataPath }, label: 'label' },
    split: { validation: 0.25, seed: 3 },
    features: {
      transforms: [
        { column: 'age', transform: 'standardize', missing: 'mean' },
        { column: 'income', transform: 'impute', indicator: true },
        { column: 'city', transform: 'onehot', topK: 6 },
        { column: 'review', transform: 'text', buckets: 64, ngramRange: [1, 2] },
      ],
    },
    model: { kind: 'gbdt', objective: 'binary', params: { numTrees: 20, maxDepth: 3, seed: 1 } },
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<StratumError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof StratumError, `expected a StratumError, got ${String(caught)}`);
  assert.equal(caught.code, 'BAD_REQUEST', caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

before(async () => {
  const { rows, labels } = tabularRows({ count: 1200, seed: 11 });
  dataPath = writeCsv(
    'reviews.csv',
    COLUMNS,
    rows.map((row, i) => [row['age'], row['income'], row['city'], row['review'], labels[i] === 1 ? 'good' : 'bad']),
  );
  store = await openMetadataStore({ url: `sqlite:${join(folder, 'stratum.db')}` });
  artifacts = await openArtifactStore({ url: `file:${join(folder, 'artifacts')}` });
  registry = createRegistry({ store, artifacts, logger: createLogger({ level: 'silent' }) });
  context = { store, artifacts, registry, by: 'test', baseDir: folder, codeVersion: 'abc123' };
});
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('a tracked training run', () => {
  test('records params, metrics by step, dataset version + profile and artifacts, and registers with lineage', async () => {
    const events: string[] = [];
    const parsed = parseTrainSpec({ ...spec(), register: { model: 'reviews', alias: 'staging' } });
    const result = await runTraining(parsed, { ...context, onEvent: (e) => events.push(e.phase) });

    const run = await store.getRun(result.run.id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.codeVersion, 'abc123');
    assert.deepEqual((run.params as { model: unknown }).model, parsed.model);
    assert.match(run.datasetVersion ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok((run.metrics['roc_auc'] as number) > 0.75, `roc_auc ${run.metrics['roc_auc']}`);
    assert.equal(run.metrics['steps'], 20);
    assert.deepEqual(
      run.artifacts.map((a) => a.name),
      ['model.onnx', 'features.json', 'evaluation.json', 'samples.json', 'card.json'],
    );
    const losses = await store.runMetrics(run.id, { key: 'validation_loss' });
    assert.deepEqual(
      losses.map((m) => m.step),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.ok(
      (losses.at(-1)?.value as number) < (losses[0]?.value as number),
      `validation loss falls: ${losses.map((m) => m.value.toFixed(3)).join(' ')}`,
    );
    assert.ok(events.includes('read') && events.includes('train') && events.includes('register'));

    // The dataset version holds the profile of all rows, label included.
    const dataset = await store.getDatasetVersion(run.datasetVersion as string);
    assert.equal(dataset.numRows, 1200);
    const profile = dataset.profile as DatasetProfile;
    assert.equal(profile.rows, 1200);
    assert.deepEqual(profile.columns.map((c) => c.name).sort(), ['age', 'city', 'income', 'label', 'review']);
    const column = (name: string) => profile.columns.find((c) => c.name === name);
    assert.ok((column('income')?.missing as number) > 0, 'income has missing values');
    assert.equal(column('label')?.kind, 'categorical');

    // The version: lineage, metrics, alias; its ONNX answers raw columns like the TypeScript reference.
    const version = result.version;
    assert.ok(version !== undefined);
    const samplesArtifact = run.artifacts.find((a) => a.name === 'samples.json');
    assert.deepEqual(version.lineage, {
      runId: run.id,
      datasetVersion: run.datasetVersion,
      source: dataPath,
      samples: samplesArtifact?.digest,
    });
    // The drift reference: every training row (fewer than 5,000), raw columns, no label.
    const reference = (await store.referenceSample('reviews', version.version)) as { rows: Record<string, unknown>[] };
    assert.equal(reference.rows.length, 1200);
    assert.deepEqual(Object.keys(reference.rows[0] ?? {}).sort(), ['age', 'city', 'income', 'review']);
    // The sample rows are real held-out rows as an inference request for the raw columns.
    const samples = JSON.parse(Buffer.from(await registry.readArtifact(samplesArtifact?.digest ?? '')).toString()) as {
      inputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    };
    assert.deepEqual(
      samples.inputs.map((i) => [i.name, i.datatype, i.shape]),
      result.fitted.inputs.map((i) => [i.column, i.type === 'STRING' ? 'BYTES' : 'FP32', [8, 1]]),
    );
    assert.ok(samples.inputs.every((i) => i.data.every((v) => typeof v === 'string' || Number.isFinite(v))));
    assert.equal(version.metrics['roc_auc'], run.metrics['roc_auc']);
    assert.equal((await registry.getAlias('reviews', 'staging')).version, version.version);
    const bytes = await registry.readArtifact(version.artifactDigest);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const rows = tabularRows({ count: 50, seed: 99, unseen: true }).rows;
      const feeds: Record<string, ort.Tensor> = {};
      for (const column of toRawColumns(result.fitted, rows)) {
        feeds[column.column] = new ort.Tensor(column.type === 'STRING' ? 'string' : 'float32', column.data, [50, 1]);
      }
      const outputs = await session.run(feeds);
      const expected = predictPipeline({ fitted: result.fitted, model: result.model, rows });
      const probabilities = outputs['probabilities']?.data as Float32Array;
      assert.equal(probabilities.length, expected.outputs.length);
      for (let i = 0; i < probabilities.length; i++) {
        assert.ok(Math.abs((probabilities[i] as number) - (expected.outputs[i] as number)) <= 1e-5, `output ${i}`);
      }
    } finally {
      await session.release();
    }
    // Garbage collection keeps what the run produced.
    const referenced = await store.referencedArtifacts();
    for (const artifact of run.artifacts) assert.ok(referenced.has(artifact.digest), artifact.name);
  });

  test('logistic regression on the same data; the same spec and data give the same metrics', async () => {
    const linear = spec({
      model: { kind: 'linear', objective: 'binary', params: { optimizer: 'lbfgs', epochs: 50, l2: 0.001, seed: 2 } },
    });
    const first = await runTraining(parseTrainSpec(linear), context);
    const second = await runTraining(parseTrainSpec(linear), context);
    assert.ok((first.metrics['accuracy'] as number) > 0.7);
    assert.deepEqual(first.metrics, second.metrics);
    assert.equal(first.run.datasetVersion, second.run.datasetVersion);
    assert.equal(first.version, undefined, 'nothing is registered without a register section');
  });
});

describe('the baseline beside every metric', () => {
  test("a classifier's: the training rows' majority class, scored on the held-out rows", async () => {
    const result = await runTraining(parseTrainSpec(spec({ name: 'reviews-baseline' })), context);
    const { run } = result;
    assert.deepEqual(Object.keys(result.baseline), Object.keys(result.metrics));
    for (const [key, value] of Object.entries(result.baseline)) assert.equal(run.metrics[`baseline.${key}`], value);
    const digest = run.artifacts.find((a) => a.name === 'evaluation.json')?.digest ?? '';
    const evaluation = JSON.parse(Buffer.from(await registry.readArtifact(digest)).toString()) as {
      classes: string[];
      count: number;
      confusionMatrix: number[][];
      baseline: { majorityClass: number; classFrequencies: number[]; confusionMatrix: number[][] };
    };
    // Held-out rows per class, from the model's confusion matrix; training rows per class, from the
    // frequencies the baseline recorded: together they are every row of the file.
    const heldOut = evaluation.confusionMatrix.map((row) => row.reduce((sum, n) => sum + n, 0));
    const trainRows = run.metrics['train_rows'] as number;
    const training = evaluation.baseline.classFrequencies.map((f) => Math.round(f * trainRows));
    const { labels } = tabularRows({ count: 1200, seed: 11 });
    const good = labels.reduce((sum, y) => sum + y, 0);
    const goodClass = evaluation.classes.indexOf('good');
    assert.equal((training[goodClass] as number) + (heldOut[goodClass] as number), good);
    assert.equal((training[1 - goodClass] as number) + (heldOut[1 - goodClass] as number), 1200 - good);
    const majority = (training[0] as number) >= (training[1] as number) ? 0 : 1;
    assert.equal(evaluation.baseline.majorityClass, majority);
    assert.deepEqual(
      evaluation.baseline.confusionMatrix,
      heldOut.map((n) => (majority === 0 ? [n, 0] : [0, n])),
    );
    assert.equal(result.baseline['accuracy'], (heldOut[majority] as number) / evaluation.count);
    assert.equal(result.baseline['balanced_accuracy'], 0.5);
    assert.equal(result.baseline['recall_macro'], 0.5);
    assert.equal(result.baseline['roc_auc'], 0.5);
    assert.ok(
      (result.metrics['balanced_accuracy'] as number) > 0.7,
      `balanced accuracy ${result.metrics['balanced_accuracy']}`,
    );
  });

  test("a regressor's: the training rows' mean", async () => {
    const next = mulberry32(17);
    const rows = Array.from({ length: 400 }, () => {
      const x = next() * 4 - 2;
      return [x, 3 * x + (next() - 0.5)];
    });
    const path = writeCsv('line.csv', ['x', 'y'], rows);
    const result = await runTraining(
      parseTrainSpec({
        name: 'line',
        data: { source: { format: 'csv', path }, label: 'y' },
        split: { validation: 0.25, seed: 5 },
        features: { transforms: [{ column: 'x', transform: 'standardize' }] },
        model: { kind: 'gbdt', objective: 'regression', params: { numTrees: 30, maxDepth: 3 } },
      }),
      context,
    );
    assert.deepEqual(Object.keys(result.baseline), ['rmse', 'mae', 'r2']);
    assert.equal(result.run.metrics['baseline.rmse'], result.baseline['rmse']);
    // y spans about ±6: the mean predictor is off by about its standard deviation (≈ 3.5), the model by far less.
    assert.ok((result.baseline['rmse'] as number) > 3, `baseline RMSE ${result.baseline['rmse']}`);
    assert.ok((result.metrics['rmse'] as number) < 1, `model RMSE ${result.metrics['rmse']}`);
    const r2 = result.baseline['r2'] as number;
    assert.ok(r2 <= 0 && r2 > -0.05, `the training mean's R² is about 0, at most 0: ${r2}`);
  });
});

test('a multilayer perceptron runs through the same steps and registers', async () => {
  // A network needs inputs on one scale: income is standardised here, not only imputed.
  const mlp = spec({
    features: {
      transforms: [
        { column: 'age', transform: 'standardize', missing: 'mean' },
        { column: 'income', transform: 'standardize', missing: 'mean' },
        { column: 'city', transform: 'onehot', topK: 6 },
        { column: 'review', transform: 'text', buckets: 64, ngramRange: [1, 2] },
      ],
    },
    model: {
      kind: 'mlp',
      objective: 'binary',
      params: { hiddenLayers: [16], epochs: 15, batchSize: 32, learningRate: 0.01, seed: 4 },
    },
  });
  const result = await runTraining(
    parseTrainSpec({ ...mlp, name: 'reviews-mlp', register: { model: 'reviews-mlp' } }),
    context,
  );
  assert.equal(result.run.status, 'succeeded');
  assert.equal(result.model.kind, 'mlp');
  assert.ok((result.metrics['roc_auc'] as number) > 0.75, `roc_auc ${result.metrics['roc_auc']}`);
  assert.equal((await store.runMetrics(result.run.id, { key: 'train_loss' })).length, 15);
  assert.equal(result.version?.lineage.runId, result.run.id);
});

test('SQL over a file (DuckDB): timestamps become date parts in the graph; the version hashes the rows read', async () => {
  const start = Date.UTC(2024, 0, 1);
  const lines = ['when,distance,late'];
  for (let i = 0; i < 800; i++) {
    const when = start + i * 3_600_000 * 7;
    const hour = new Date(when).getUTCHours();
    const distance = 100 + ((i * 37) % 900);
    // Late in the evening and on long trips: something date parts and distance can learn.
    lines.push(
      `${new Date(when).toISOString().replace('T', ' ').slice(0, 19)},${distance},${hour >= 17 || distance > 800 ? 1 : 0}`,
    );
  }
  const path = join(folder, 'trips.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const sql = {
    ...spec(),
    name: 'trips',
    data: { source: { format: 'sql', query: `SELECT * FROM read_csv('${path}')` }, label: 'late' },
    features: {
      transforms: [
        { column: 'when', transform: 'dateparts', parts: ['hour', 'dayofweek'] },
        { column: 'distance', transform: 'standardize' },
      ],
    },
    register: { model: 'trips' },
  } as const;
  const first = await runTraining(parseTrainSpec(sql), context);
  const second = await runTraining(parseTrainSpec(sql), context);
  assert.match(first.run.datasetVersion ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(first.run.datasetVersion, second.run.datasetVersion);
  assert.ok((first.metrics['accuracy'] as number) > 0.95, `accuracy ${first.metrics['accuracy']}`);

  const session = await ort.InferenceSession.create(first.onnx);
  try {
    const when = [Date.UTC(2024, 5, 3, 19, 30), Date.UTC(2024, 5, 4, 8, 0)];
    const outputs = await session.run({
      when: new ort.Tensor('float64', Float64Array.from(when), [2, 1]),
      distance: new ort.Tensor('float32', Float32Array.of(300, 300), [2, 1]),
    });
    const expected = predictPipeline({
      fitted: first.fitted,
      model: first.model,
      rows: when.map((w) => ({ when: w, distance: 300 })),
    });
    const probabilities = outputs['probabilities']?.data as Float32Array;
    for (let i = 0; i < 4; i++)
      assert.ok(Math.abs((probabilities[i] as number) - (expected.outputs[i] as number)) <= 1e-5);
    assert.ok(
      (probabilities[1] as number) > 0.5 && (probabilities[3] as number) < 0.5,
      'evening late, morning on time',
    );
  } finally {
    await session.release();
  }
});

describe('bad input is refused before training, recorded as a failed run, and registers nothing', () => {
  async function failedRuns(name: string): Promise<string[]> {
    return (await store.listRuns({ name, status: 'failed' })).items.map((r) => r.error ?? '');
  }
  async function versionsOf(model: string): Promise<number> {
    try {
      return (await registry.listVersions(model)).items.length;
    } catch {
      return 0;
    }
  }

  test('a ragged CSV row names the file and line', async () => {
    const path = writeCsv('ragged.csv', COLUMNS, [
      [30, 1, 'paris', 'great food', 'good'],
      [31, 2, 'lyon', 'bad', 'bad', 'extra'],
    ]);
    const bad = {
      ...spec(),
      name: 'ragged',
      data: { source: { format: 'csv', path }, label: 'label' },
      register: { model: 'ragged' },
    } as const;
    const error = await rejectsWith(
      runTraining(parseTrainSpec(bad), context),
      /ragged\.csv: line 3 has 6 fields, the header has 5/,
    );
    assert.deepEqual(await failedRuns('ragged'), [error.message]);
    assert.equal(await versionsOf('ragged'), 0);
  });

  test('a label with one class, a missing label and an infinite feature name the column and row', async () => {
    const oneClass = writeCsv('one-class.csv', COLUMNS, [
      [30, 1, 'paris', 'great', 'good'],
      [31, 2, 'lyon', 'fine', 'good'],
    ]);
    const missing = writeCsv('missing-label.csv', COLUMNS, [
      [30, 1, 'paris', 'great', 'good'],
      [31, 2, 'lyon', 'fine', ''],
    ]);
    const infinite = writeCsv('infinite.csv', COLUMNS, [
      [30, 1, 'paris', 'great', 'good'],
      [31, 2, 'lyon', 'fine', 'bad'],
      ['Infinity', 2, 'lyon', 'fine', 'bad'],
    ]);
    const cases = [
      {
        path: oneClass,
        name: 'one-class',
        pattern: /one-class\.csv: column "label": the label has one class \("good"\) in all 2 rows/,
      },
      {
        path: missing,
        name: 'missing-label',
        pattern: /missing-label\.csv: line 3: column "label": the label is missing/,
      },
      {
        path: infinite,
        name: 'infinite',
        pattern: /infinite\.csv: line 4, column "age": Infinity is not a feature value/,
      },
    ];
    for (const c of cases) {
      const bad = {
        ...spec(),
        name: c.name,
        data: { source: { format: 'csv', path: c.path }, label: 'label' },
        register: { model: c.name },
      } as const;
      const error = await rejectsWith(runTraining(parseTrainSpec(bad), context), c.pattern);
      assert.deepEqual(await failedRuns(c.name), [error.message]);
      assert.equal(await versionsOf(c.name), 0);
    }
  });

  test('an empty dataset and a missing column are refused', async () => {
    const empty = writeCsv('empty.csv', COLUMNS, []);
    const noCity = writeCsv('no-city.csv', ['age', 'income', 'review', 'label'], [[30, 1, 'great', 'good']]);
    await rejectsWith(
      runTraining(
        parseTrainSpec({ ...spec(), name: 'empty', data: { source: { format: 'csv', path: empty }, label: 'label' } }),
        context,
      ),
      /empty\.csv: the dataset is empty/,
    );
    await rejectsWith(
      runTraining(
        parseTrainSpec({
          ...spec(),
          name: 'no-city',
          data: { source: { format: 'csv', path: noCity }, label: 'label' },
        }),
        context,
      ),
      /no-city\.csv: line 2: no column "city"/,
    );
  });

  test('a wrong type in a declared schema names the file, line and column', async () => {
    const typed = writeCsv('typed.csv', COLUMNS, [
      [30, 1, 'paris', 'great', 'good'],
      ['thirty', 2, 'lyon', 'fine', 'bad'],
    ]);
    const schema = { age: 'number', income: 'number', city: 'string', review: 'string', label: 'string' } as const;
    await rejectsWith(
      runTraining(
        parseTrainSpec({
          ...spec(),
          name: 'typed',
          data: { source: { format: 'csv', path: typed, schema }, label: 'label' },
        }),
        context,
      ),
      /typed\.csv: line 3, column 1 "age": expected a number, got "thirty"/,
    );
    assert.equal((await failedRuns('typed')).length, 1);
  });

  test('a number column with text or an empty cell names the file, the line and the column, without a schema', async () => {
    // The review on line 2 spans two lines and line 4 is blank, so the last row is on line 45.
    const rowsText = Array.from(
      { length: 40 },
      (_, i) => `${20 + i},${i},${i % 2 === 0 ? 'paris' : 'lyon'},ok,${i % 3 === 0 ? 'good' : 'bad'}`,
    );
    const head = 'age,income,city,review,label\n30,1,paris,"great\nfood",good\n\n';
    const path = join(folder, 'people.csv');
    const run = (name: string, last: string, age: Record<string, unknown> = {}) => {
      writeFileSync(path, `${head}${rowsText.join('\n')}\n${last}\n`);
      const base = spec();
      // The default: no `missing` key on the standardized age.
      const transforms = [{ column: 'age', transform: 'standardize', ...age }, ...base.features.transforms.slice(1)];
      return runTraining(
        parseTrainSpec({
          ...base,
          name,
          data: { source: { format: 'csv', path }, label: 'label' },
          features: { transforms } as TrainSpecInput['features'],
        }),
        context,
      );
    };
    await rejectsWith(
      run('text-age', 'thirty,4,rome,ok,bad'),
      /people\.csv: line 45, column 1 "age": expected a number, got "thirty"$/,
    );
    const missing = await rejectsWith(
      run('empty-age', ',3,rome,ok,good'),
      /people\.csv: line 45, column "age": the value is missing, and features\.transforms\[0\] \(standardize\) refuses missing values \(missing: error, the default\); set its missing to mean, median or constant \(with fillValue\) to fill them, or fill the cell$/,
    );
    assert.deepEqual(missing.details, {
      file: path,
      line: 45,
      column: 'age',
      path: ['features', 'transforms', 0, 'missing'],
    });
    assert.equal((await failedRuns('empty-age')).length, 1);
    // Declared, the empty cell is filled with the given value, and the model sees it filled.
    const filled = await run('filled-age', ',3,rome,ok,good', { missing: 'constant', fillValue: 99 });
    assert.equal(filled.run.status, 'succeeded');
    const age = filled.fitted.transforms[0];
    assert.ok(age?.transform === 'standardize');
    assert.equal(age.fill, 99);
  });

  test('a spec with unknown keys or out-of-range values names the path, and no run is created', async () => {
    const before = (await store.listRuns({ limit: 100 })).items.length;
    assert.throws(
      () => parseTrainSpec({ ...spec(), modle: {} }),
      (e: unknown) =>
        e instanceof StratumError &&
        /\(top level\): unknown key "modle" \(known keys: name, data, split, features, model, register, card\)/.test(
          e.message,
        ),
    );
    assert.throws(
      () => parseTrainSpec(spec({ model: { kind: 'gbdt', objective: 'binary', params: { maxDepth: 0 } } })),
      (e: unknown) => e instanceof StratumError && /model\.params\.maxDepth/.test(e.message),
    );
    assert.throws(
      () => parseTrainSpec({ ...spec(), split: { validation: 1.5 } }),
      (e: unknown) => e instanceof StratumError && /split\.validation/.test(e.message),
    );
    assert.throws(
      () =>
        parseTrainSpec({
          ...spec(),
          features: { transforms: [{ column: 'label', transform: 'standardize' }] },
        }),
      (e: unknown) => e instanceof StratumError && /label column "label" cannot also be a feature/.test(e.message),
    );
    assert.equal((await store.listRuns({ limit: 100 })).items.length, before);
  });
});

describe('a registration behind an alias its deployments could not follow', () => {
  test('is refused before the data is read or a run is created; forced, it registers and records why', async () => {
    const first = await runTraining(
      parseTrainSpec({ ...spec(), name: 'gated', register: { model: 'gated', alias: 'live' } }),
      context,
    );
    assert.equal(first.version?.version, 1);
    assert.deepEqual(
      JSON.parse(first.version?.metadata['stratum.classes'] ?? 'null'),
      ['bad', 'good'],
      'the class names are in the version metadata',
    );
    await registry.createDeployment({ name: 'gated', spec: { routes: [{ alias: 'live', weight: 100 }] }, by: 'test' });

    // Without the review text the model takes other inputs than the deployment's clients send.
    const withoutText = (path: string) =>
      parseTrainSpec({
        ...spec(),
        name: 'gated-no-text',
        data: { source: { format: 'csv', path }, label: 'label' },
        features: {
          transforms: [
            { column: 'age', transform: 'standardize', missing: 'mean' },
            { column: 'city', transform: 'onehot' },
          ],
        },
        register: { model: 'gated', alias: 'live' },
      });
    let caught: unknown;
    // The data file does not exist: the refusal comes before anything reads it.
    await assert.rejects(runTraining(withoutText(join(folder, 'not-there.csv')), context), (error: unknown) => {
      caught = error;
      return true;
    });
    assert.ok(caught instanceof StratumError);
    assert.equal(caught.code, 'SIGNATURE_MISMATCH', caught.message);
    assert.match(caught.message, /moving alias "live" to a new version \(used by deployment "gated"\)/);
    assert.match(caught.message, /input "income" is missing .*input "review" is missing/);
    assert.equal((await store.listRuns({ name: 'gated-no-text' })).items.length, 0, 'no run was started');
    assert.equal((await registry.listVersions('gated')).items.length, 1);

    const forced = await runTraining(withoutText(dataPath), {
      ...context,
      force: { reason: 'clients stop sending text' },
    });
    assert.equal(forced.version?.version, 2, 'no version number was used up by the refusal');
    assert.equal((await registry.getAlias('gated', 'live')).version, 2);
    const [move] = (await registry.aliasHistory({ model: 'gated', alias: 'live', limit: 1 })).items;
    assert.equal(move?.forced, true);
    assert.equal(move?.reason, `clients stop sending text (run ${forced.run.id})`);
    const [event] = (await registry.deploymentEvents({ deployment: 'gated', limit: 1 })).items;
    assert.equal(event?.kind, 'alias-moved');
    assert.match(event?.message ?? '', /forced past the signature check: clients stop sending text/);
  });
});
