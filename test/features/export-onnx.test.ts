/**
 * Parity: the TypeScript reference (transformBatch) and the exported ONNX graph run by
 * onnxruntime-node agree on thousands of rows with missing values (filled by each `missing`
 * policy) and unseen categories, per transform, at batch 1 and batch > 1, and after a JSON round
 * trip of the fitted pipeline; a row missing a value no transform fills is NaN in both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { FeatureSpecInput } from '../../src/features/feature-spec.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import { featureNamesOf, parseFittedFeatures, type FittedFeatures } from '../../src/features/fitted-features.ts';
import { addFeatureGraph, exportFeaturesModel } from '../../src/features/export-onnx.ts';
import { transformBatch, transformRow } from '../../src/features/transform.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { featureFeeds, runFeatures } from './run-features.ts';
import { syntheticRows } from './synthetic-rows.ts';

const TOLERANCE = 1e-5;
const TRAIN_ROWS = 5000;
const EVAL_ROWS = 4000;

const SPEC: FeatureSpecInput = {
  transforms: [
    { column: 'age', transform: 'standardize', missing: 'mean' },
    { column: 'age', transform: 'bucketize', buckets: 8, missing: 'median' },
    { column: 'age', transform: 'impute', name: 'age_filled', indicator: true },
    { column: 'income', transform: 'minmax', clip: true, missing: 'median' },
    { column: 'income', transform: 'minmax', name: 'income_unclipped', missing: 'mean' },
    { column: 'income', transform: 'standardize', missing: 'constant', fillValue: 12_345 },
    {
      column: 'income',
      transform: 'bucketize',
      boundaries: [1e3, 1e4, 5e4],
      encoding: 'ordinal',
      missing: 'constant',
      fillValue: 20_000,
    },
    { column: 'score', transform: 'impute', strategy: 'most_frequent' },
    { column: 'score', transform: 'impute', strategy: 'constant', value: -1, name: 'score_const' },
    { column: 'city', transform: 'onehot', topK: 8 },
    { column: 'device', transform: 'onehot', minCount: 50 },
  ],
  output: 'features',
};

async function* streamed<T>(values: readonly T[]): AsyncIterable<T> {
  for (const value of values) yield await Promise.resolve(value);
}

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{
  fitted: FittedFeatures;
  session: ort.InferenceSession;
}> {
  const fitted = await fitFeatures(SPEC, streamed(syntheticRows({ count: TRAIN_ROWS, seed: 1 })));
  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  return { fitted, session };
}

test('onnxruntime and transformBatch agree within 1e-5 for every transform', async (t) => {
  const { fitted, session } = await setup(t);
  const rows = syntheticRows({ count: EVAL_ROWS, seed: 2, unseen: true });
  const reference = transformBatch(fitted, rows);
  const onnx = await runFeatures({ session, fitted, rows });
  const width = fitted.featureNames.length;
  assert.deepEqual(onnx.dims, [EVAL_ROWS, width]);
  assert.deepEqual(reference.dims, [EVAL_ROWS, width]);

  let offset = 0;
  for (const transform of fitted.transforms) {
    const span = featureNamesOf(transform).length;
    let maxDiff = 0;
    for (let row = 0; row < EVAL_ROWS; row++) {
      for (let j = offset; j < offset + span; j++) {
        const a = reference.data[row * width + j] ?? Number.NaN;
        const b = onnx.data[row * width + j] ?? Number.NaN;
        assert.ok(Number.isFinite(a) && Number.isFinite(b), `${transform.name} row ${row}: ${a} vs ${b}`);
        maxDiff = Math.max(maxDiff, Math.abs(a - b));
      }
    }
    t.diagnostic(
      `${transform.transform} ${transform.name}: ${span} feature(s), ${EVAL_ROWS} rows, max |diff| ${maxDiff}`,
    );
    assert.ok(maxDiff <= TOLERANCE, `${transform.transform} ${transform.name}: max |diff| ${maxDiff} > ${TOLERANCE}`);
    offset += span;
  }
  assert.equal(offset, width);
});

test('unseen and missing categories go to the out-of-vocabulary column; missing numbers get the fill', async (t) => {
  const { fitted, session } = await setup(t);
  const rows = [
    { age: null, income: 20_000, score: null, city: 'atlantis', device: 'ios' },
    { age: 30, city: null, device: '' },
  ];
  const onnx = await runFeatures({ session, fitted, rows });
  const reference = transformBatch(fitted, rows);
  assert.deepEqual(Array.from(onnx.data), Array.from(reference.data));
  const names = fitted.featureNames;
  const at = (row: number, name: string): number | undefined =>
    reference.data[row * names.length + names.indexOf(name)];
  assert.equal(at(0, 'city=<oov>'), 1);
  assert.equal(at(1, 'city=<oov>'), 1);
  assert.equal(at(1, 'device=<oov>'), 1);
  assert.equal(at(0, 'device=ios'), 1);
  assert.equal(at(0, 'age_std'), 0, 'a missing age is imputed with the mean, so standardizes to 0');
  assert.equal(at(0, 'age_filled_missing'), 1);
  assert.equal(at(1, 'age_filled_missing'), 0);
  assert.equal(at(1, 'age_filled'), 30);
  assert.equal(at(0, 'score_const'), -1);
  assert.equal(at(0, 'income_bucket'), 2);
});

test('batch 1 gives the same rows as one large batch, and transformRow matches transformBatch', async (t) => {
  const { fitted, session } = await setup(t);
  const rows = syntheticRows({ count: 64, seed: 3, unseen: true });
  const batch = await runFeatures({ session, fitted, rows });
  const width = fitted.featureNames.length;
  for (const [i, row] of rows.entries()) {
    const single = await runFeatures({ session, fitted, rows: [row] });
    assert.deepEqual(Array.from(single.data), Array.from(batch.data.subarray(i * width, (i + 1) * width)));
    assert.deepEqual(Array.from(transformRow(fitted, row)), Array.from(single.data));
  }
});

test('a JSON round trip of the fitted pipeline gives identical features and identical model bytes', async () => {
  const fitted = await fitFeatures(SPEC, syntheticRows({ count: TRAIN_ROWS, seed: 1 }));
  const restored = parseFittedFeatures(JSON.parse(JSON.stringify(fitted)));
  assert.deepEqual(restored, fitted);
  const rows = syntheticRows({ count: 500, seed: 4, unseen: true });
  assert.deepEqual(transformBatch(restored, rows).data, transformBatch(fitted, rows).data);
  assert.deepEqual(exportFeaturesModel(restored), exportFeaturesModel(fitted));
});

test('fitting a streamed (async) iterable equals fitting an array', async () => {
  const rows = syntheticRows({ count: 1000, seed: 5 });
  assert.deepEqual(await fitFeatures(SPEC, streamed(rows)), await fitFeatures(SPEC, rows));
});

test('a model can be appended after the feature graph (raw columns in, prediction out)', async (t) => {
  const fitted = await fitFeatures(
    {
      transforms: [
        { column: 'age', transform: 'standardize', missing: 'mean' },
        { column: 'city', transform: 'onehot', topK: 3 },
      ],
    },
    syntheticRows({ count: 1000, seed: 6 }),
  );
  const width = fitted.featureNames.length;
  const g = new GraphBuilder({ name: 'linear_with_features' });
  const features = addFeatureGraph(g, fitted);
  const weights = Float32Array.from({ length: width }, (_, i) => i + 1);
  g.addInitializer({ name: 'w', dims: [width, 1], data: weights });
  g.addNode({ op: 'MatMul', inputs: [features, 'w'], outputs: ['y'] });
  g.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 1] });
  const session = await ort.InferenceSession.create(g.toBytes());
  t.after(() => session.release());
  const rows = syntheticRows({ count: 100, seed: 7, unseen: true });
  const { data } = transformBatch(fitted, rows);
  const result = await session.run(featureFeeds(fitted, rows));
  const y = result.y?.data;
  assert.ok(y instanceof Float32Array);
  assert.deepEqual(result.y?.dims, [rows.length, 1]);
  for (let i = 0; i < rows.length; i++) {
    let expected = 0;
    for (let j = 0; j < width; j++) expected += (data[i * width + j] ?? 0) * (weights[j] ?? 0);
    assert.ok(Math.abs((y[i] ?? Number.NaN) - expected) <= 1e-4, `row ${i}: ${y[i]} vs ${expected}`);
  }
});

test('missing: error leaves nothing to fill: a row missing the value gets NaN features in the graph and the reference', async (t) => {
  const spec: FeatureSpecInput = {
    transforms: [
      { column: 'age', transform: 'bucketize', buckets: 4 },
      { column: 'age', transform: 'impute', name: 'age_filled' },
      { column: 'income', transform: 'standardize', missing: 'mean' },
      { column: 'city', transform: 'onehot', topK: 3 },
    ],
  };
  const complete = syntheticRows({ count: 500, seed: 8 }).filter(
    (row) => row.age !== null && !Number.isNaN(Number(row.age)),
  );
  const fitted = await fitFeatures(spec, complete);
  const fills = fitted.transforms.map((transform) => ('fill' in transform ? transform.fill : 'none'));
  assert.equal(fills[0], null, 'bucketize has no fill: missing: error is the default');
  assert.equal(typeof fills[1], 'number');
  assert.equal(typeof fills[2], 'number');
  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  const rows = [
    { age: 41, income: null, city: 'paris' },
    { age: null, income: 30_000, city: 'paris' },
    { age: Number.NaN, income: null, city: null },
    { age: 12, income: 5000, city: 'atlantis' },
  ];
  const onnx = await runFeatures({ session, fitted, rows });
  const reference = transformBatch(fitted, rows);
  const width = fitted.featureNames.length;
  for (const [i, row] of rows.entries()) {
    const graphRow = Array.from(onnx.data.subarray(i * width, (i + 1) * width));
    const referenceRow = Array.from(reference.data.subarray(i * width, (i + 1) * width));
    assert.deepEqual(graphRow, referenceRow, `row ${i}`);
    const missingAge = row.age === null || Number.isNaN(row.age);
    assert.equal(graphRow.every(Number.isNaN), missingAge, `row ${i}: NaN features exactly when age is missing`);
    assert.equal(graphRow.some(Number.isNaN), missingAge, `row ${i}`);
  }
  await assert.rejects(
    fitFeatures(spec, syntheticRows({ count: 500, seed: 8 })),
    (error: unknown) =>
      error instanceof Error &&
      /^transforms\[0\]\.missing: column "age" has no value in training row \d+, and a missing value is an error \(missing: error, the default\); set missing to mean, median or constant/.test(
        error.message,
      ),
  );
});
