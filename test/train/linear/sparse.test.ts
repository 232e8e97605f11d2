/**
 * The CSR path for mostly-zero features: the conversion keeps every non-zero (and drops negative
 * zeros), and the loss and gradient over CSR rows are the dense loops' bits for every objective,
 * full batch or mini-batch, on one thread or sharded over workers; L-BFGS training on sparse data
 * equals an L-BFGS run over the dense objective, and Adam runs resume from checkpoints exactly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { minimizeLbfgs } from '../../../src/train/linear/lbfgs.ts';
import { linearObjective, type LinearData, type LinearShape } from '../../../src/train/linear/linear-objective.ts';
import type { LinearObjective } from '../../../src/train/linear/linear-model.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import {
  countNonzeros,
  sparseIfWorthwhile,
  scanToSparseRows,
  SPARSE_DENSITY_THRESHOLD,
  sparseRowsBuffers,
  toSparseRows,
} from '../../../src/train/linear/sparse-rows.ts';
import { trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';
import { startLinearShards } from '../../../src/train/linear/linear-worker-shards.ts';
import { sparseData } from './synthetic-data.ts';

const F = 40;
const OBJECTIVES: { objective: LinearObjective; numOutputs: number }[] = [
  { objective: 'regression', numOutputs: 1 },
  { objective: 'binary', numOutputs: 1 },
  { objective: 'multiclass', numOutputs: 3 },
];

function dataFor(objective: LinearObjective, seed: number): ReturnType<typeof sparseData> {
  return sparseData({ rows: 400, numFeatures: F, density: 0.08, objective, numClasses: 3, seed });
}

function thetaFor(shape: LinearShape): Float64Array {
  const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  return Float64Array.from({ length: size }, (_, i) => Math.sin(i + 1) * 0.2);
}

test('toSparseRows keeps every non-zero in row order and drops negative zeros', () => {
  const features = new Float32Array([0, 1.5, -0, 0, -2, 0, 0, 0, 0, 0, 0, 3.25]);
  assert.equal(countNonzeros(features), 3);
  const sparse = toSparseRows({ features, numFeatures: 4 });
  assert.deepEqual(Array.from(sparse.offsets), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(sparse.columns), [1, 0, 3]);
  assert.deepEqual(Array.from(sparse.values), [1.5, -2, 3.25]);
  assert.ok(sparse.columns instanceof Int32Array);
  const shared = toSparseRows({ features, numFeatures: 4, shared: true });
  assert.ok(shared.values.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(Array.from(shared.values), [1.5, -2, 3.25]);
});

test('columns beyond 16 bits keep their index', () => {
  const features = new Float32Array(70_000);
  features[69_999] = 1;
  const sparse = toSparseRows({ features, numFeatures: 70_000 });
  assert.deepEqual(Array.from(sparse.columns), [69_999]);
});

test('CSR is used only below the density threshold', () => {
  const numFeatures = 8;
  const features = new Float32Array(800);
  const dense = Math.ceil(SPARSE_DENSITY_THRESHOLD * features.length);
  for (let i = 0; i < dense - 1; i++) features[i] = 1;
  assert.ok(sparseIfWorthwhile({ features, numFeatures }) !== undefined);
  features[dense - 1] = 1;
  assert.equal(sparseIfWorthwhile({ features, numFeatures }), undefined);
});

test('one scan builds the same CSR as toSparseRows, tells dense from sparse and finds non-finite values', () => {
  const set = dataFor('binary', 3);
  const expected = toSparseRows({ features: set.features, numFeatures: F });
  for (const shared of [false, true]) {
    const scanned = scanToSparseRows({ features: set.features, numFeatures: F, shared });
    assert.equal(scanned.finite, true);
    assert.equal(scanned.nonzeros, countNonzeros(set.features));
    assert.deepEqual(Array.from(scanned.sparse?.offsets ?? []), Array.from(expected.offsets));
    assert.deepEqual(Array.from(scanned.sparse?.columns ?? []), Array.from(expected.columns));
    assert.deepEqual(Array.from(scanned.sparse?.values ?? []), Array.from(expected.values));
    assert.equal(scanned.sparse?.values.buffer instanceof SharedArrayBuffer, shared);
  }
  // Just under the threshold, with the dense rows first: the buffer fills before the last rows.
  const numFeatures = 8;
  const nearly = new Float32Array(800);
  const below = Math.ceil(SPARSE_DENSITY_THRESHOLD * nearly.length) - 1;
  for (let i = 0; i < below; i++) nearly[i] = i + 1;
  const near = scanToSparseRows({ features: nearly, numFeatures });
  assert.deepEqual(near.sparse?.values, toSparseRows({ features: nearly, numFeatures }).values);
  nearly[below] = 1;
  assert.equal(scanToSparseRows({ features: nearly, numFeatures }).sparse, undefined);
  nearly[799] = Number.NaN;
  const bad = scanToSparseRows({ features: nearly, numFeatures });
  assert.equal(bad.finite, false);
  assert.equal(bad.sparse, undefined);
});

test('a scan into arrays laid out beforehand builds the same CSR in them, also when the rows are rebuilt', () => {
  const set = dataFor('binary', 4);
  const expected = toSparseRows({ features: set.features, numFeatures: F });
  const into = sparseRowsBuffers({ rows: set.rows, numFeatures: F, shared: true });
  const scanned = scanToSparseRows({ features: set.features, numFeatures: F, into });
  assert.equal(scanned.sparse?.offsets, into.offsets);
  assert.equal(scanned.sparse?.values.buffer, into.values.buffer);
  assert.deepEqual(Array.from(scanned.sparse?.columns ?? []), Array.from(expected.columns));
  assert.deepEqual(Array.from(scanned.sparse?.values ?? []), Array.from(expected.values));
  // The near-full case above: the scan stops building early and rebuilds, into the same arrays.
  const numFeatures = 8;
  const nearly = new Float32Array(800);
  for (let i = 0; i < Math.ceil(SPARSE_DENSITY_THRESHOLD * nearly.length) - 1; i++) nearly[i] = i + 1;
  const room = sparseRowsBuffers({ rows: 100, numFeatures, shared: false });
  const rebuilt = scanToSparseRows({ features: nearly, numFeatures, into: room });
  assert.equal(rebuilt.sparse?.columns.buffer, room.columns.buffer);
  assert.deepEqual(rebuilt.sparse?.values, toSparseRows({ features: nearly, numFeatures }).values);
  assert.deepEqual(
    Array.from(rebuilt.sparse?.offsets ?? []),
    Array.from(toSparseRows({ features: nearly, numFeatures }).offsets),
  );
  assert.throws(
    () =>
      scanToSparseRows({
        features: nearly,
        numFeatures,
        into: sparseRowsBuffers({ rows: 10, numFeatures, shared: false }),
      }),
    (error: unknown) => error instanceof StratumError && error.code === 'INTERNAL',
  );
});

for (const { objective, numOutputs } of OBJECTIVES) {
  test(`${objective}: CSR loss and gradient are the dense bits (full batch, mini-batch, 2 worker shards)`, async () => {
    const set = dataFor(objective, 7);
    const shape: LinearShape = { objective, numFeatures: F, numOutputs };
    const dense: LinearData = { features: set.features, labels: set.labels, rows: set.rows };
    const sparseRows = toSparseRows({ features: set.features, numFeatures: F });
    assert.ok(sparseRows.values.length < 0.12 * set.features.length, 'the data is sparse');
    const sparse: LinearData = { ...dense, sparse: sparseRows };
    const theta = thetaFor(shape);
    const rowIndices = Uint32Array.from({ length: 64 }, (_, i) => (i * 37) % set.rows);
    for (const indices of [undefined, rowIndices]) {
      const point = { shape, theta, l2: 0.01, ...(indices === undefined ? {} : { rowIndices: indices }) };
      const denseGradient = new Float64Array(theta.length);
      const sparseGradient = new Float64Array(theta.length);
      const a = linearObjective({ ...point, data: dense, gradient: denseGradient });
      const b = linearObjective({ ...point, data: sparse, gradient: sparseGradient });
      assert.deepEqual(b, a);
      assert.deepEqual(sparseGradient, denseGradient);
    }
    const denseShards = startLinearShards({ shape, data: dense, workers: 2 });
    const sparseShards = startLinearShards({ shape, data: sparse, workers: 2 });
    try {
      for (const indices of [undefined, rowIndices]) {
        const point = { theta, l2: 0.01, ...(indices === undefined ? {} : { rowIndices: indices }) };
        const denseGradient = new Float64Array(theta.length);
        const sparseGradient = new Float64Array(theta.length);
        const a = denseShards.evaluate({ ...point, gradient: denseGradient });
        const b = sparseShards.evaluate({ ...point, gradient: sparseGradient });
        assert.deepEqual(b, a);
        assert.deepEqual(sparseGradient, denseGradient);
        // Two threads sum the same blocks in the same order as one thread: the same bits.
        const singleGradient = new Float64Array(theta.length);
        const single = linearObjective({ ...point, shape, data: dense, gradient: singleGradient });
        assert.deepEqual(b, single);
        assert.deepEqual(sparseGradient, singleGradient);
      }
    } finally {
      await Promise.all([denseShards.close(), sparseShards.close()]);
    }
  });

  test(`${objective}: L-BFGS on sparse features equals L-BFGS over the dense objective`, () => {
    const set = dataFor(objective, 8);
    const shape: LinearShape = { objective, numFeatures: F, numOutputs };
    const params = { optimizer: 'lbfgs', learningRate: 1, l2: 1e-3, epochs: 40, batchSize: 1, seed: 0 } as const;
    const model = trainLinear({
      features: set.features,
      numFeatures: F,
      labels: set.labels,
      objective,
      numClasses: 3,
      params,
    });
    const dense: LinearData = { features: set.features, labels: set.labels, rows: set.rows };
    const reference = minimizeLbfgs({
      initial: new Float64Array(F * numOutputs + numOutputs),
      maxIterations: params.epochs,
      evaluate: ({ x, gradient }) =>
        linearObjective({ shape, data: dense, theta: x, l2: params.l2, gradient }).objective,
    });
    assert.equal(model.history.length, reference.iterations);
    assert.deepEqual(model.weights, Float32Array.from(reference.x.subarray(0, F * numOutputs)));
    assert.deepEqual(model.bias, Float32Array.from(reference.x.subarray(F * numOutputs)));
  });
}

test('sparse multiclass training with 2 workers equals 1 worker (L-BFGS and Adam)', () => {
  const all = dataFor('multiclass', 9);
  const set = { features: all.features.subarray(0, 300 * F), labels: all.labels.subarray(0, 300) };
  const validation = { features: all.features.subarray(300 * F), labels: all.labels.subarray(300) };
  for (const optimizer of ['lbfgs', 'adam'] as const) {
    const options: TrainLinearOptions = {
      features: set.features,
      numFeatures: F,
      labels: set.labels,
      objective: 'multiclass',
      numClasses: 3,
      params: {
        optimizer,
        learningRate: optimizer === 'adam' ? 0.05 : 1,
        l2: 1e-3,
        epochs: optimizer === 'adam' ? 8 : 30,
        batchSize: 50,
        seed: 4,
        workers: 2,
        validation: { features: validation.features, labels: validation.labels },
      },
    };
    const two = trainLinear(options);
    const one = trainLinear({ ...options, params: { ...options.params, workers: 1 } });
    for (let i = 0; i < one.weights.length; i++) {
      const a = one.weights[i] as number;
      const b = two.weights[i] as number;
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a)), `${optimizer} weight ${i}: ${a} vs ${b}`);
    }
    const p1 = predictLinear(one, { features: validation.features }).values;
    const p2 = predictLinear(two, { features: validation.features }).values;
    for (let i = 0; i < p1.length; i++) assert.ok(Math.abs((p1[i] as number) - (p2[i] as number)) <= 1e-6);
    const last = one.history[one.history.length - 1];
    assert.ok(last?.validationLoss !== undefined && last.validationLoss < 0.9, `${optimizer}: ${last?.validationLoss}`);
  }
});

const folder = mkdtempSync(join(tmpdir(), 'stratum-linear-sparse-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('an Adam run on sparse features resumes from its checkpoint exactly', () => {
  const set = dataFor('binary', 11);
  const options: TrainLinearOptions = {
    features: set.features,
    numFeatures: F,
    labels: set.labels,
    objective: 'binary',
    params: { optimizer: 'adam', learningRate: 0.05, l2: 1e-3, epochs: 6, batchSize: 32, seed: 5 },
  };
  const path = join(folder, 'sparse-adam.json');
  assert.throws(
    () =>
      trainLinear({
        ...options,
        checkpoint: { path, everyEpochs: 2 },
        onProgress: ({ epoch }) => {
          if (epoch === 5) throw new Error('simulated crash');
        },
      }),
    /simulated crash/,
  );
  const resumed = trainLinear({ ...options, resumeFrom: path });
  const uninterrupted = trainLinear(options);
  assert.deepEqual(resumed.weights, uninterrupted.weights);
  assert.deepEqual(resumed.history, uninterrupted.history);
});
