/**
 * Data-parallel linear training: with `workers: 2` the objective and gradient are summed by two
 * threads claiming fixed blocks of rows; the blocks are added in a fixed order, so any worker count
 * gives one thread's model bit for bit, and no thread outlives training.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { autoLinearWorkers, trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { linearBlocks } from '../../../src/train/linear/linear-objective.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { accuracy, rocAuc } from '../../../src/train/metrics/classification-metrics.ts';
import { BASELINE_THREADS, osThreads, threadsEnded } from '../../helpers/os-threads.ts';
import { blobs, sparseData } from './synthetic-data.ts';

const centres = [
  [0, 3, -1, 0],
  [-3, -1, 1, 1],
  [3, -1, 0, -1],
];
const train = blobs({ rows: 3000, centres, seed: 51 });
const base: TrainLinearOptions = {
  features: train.features,
  numFeatures: 4,
  labels: train.labels,
  objective: 'multiclass',
  numClasses: 3,
  params: { optimizer: 'lbfgs', learningRate: 1, l2: 1e-3, epochs: 30, batchSize: 256, seed: 2, workers: 2 },
};

for (const optimizer of ['lbfgs', 'adam'] as const) {
  test(`${optimizer}: 2 workers give one worker's model bit for bit`, () => {
    const options = { ...base, params: { ...base.params, optimizer, learningRate: optimizer === 'adam' ? 0.05 : 1 } };
    const a = trainLinear(options);
    const b = trainLinear(options);
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.history, b.history);
    const single = trainLinear({ ...options, params: { ...options.params, workers: 1 } });
    assert.deepEqual(a.weights, single.weights);
    assert.deepEqual(a.bias, single.bias);
    assert.deepEqual(a.history, single.history);
  });
}

test('sparse logistic L-BFGS: 1, 2 and 3 threads give the same model and the same held-out metrics', () => {
  const numFeatures = 300;
  const all = sparseData({ rows: 1500, numFeatures, density: 0.15, objective: 'binary', seed: 61 });
  const trainRows = 1200;
  const features = all.features.subarray(0, trainRows * numFeatures);
  const labels = all.labels.subarray(0, trainRows);
  const held = { features: all.features.subarray(trainRows * numFeatures), labels: all.labels.subarray(trainRows) };
  const options: TrainLinearOptions = {
    features,
    numFeatures,
    labels,
    objective: 'binary',
    params: { optimizer: 'lbfgs', l2: 1e-3, epochs: 60, seed: 0 },
  };
  // The rows are summed in several blocks, so the threads really share the work.
  assert.ok(
    linearBlocks({
      shape: { objective: 'binary', numFeatures, numOutputs: 1 },
      data: { ...all, features, labels, rows: trainRows },
    }) > 1,
  );
  const metrics = (model: ReturnType<typeof trainLinear>) => {
    const probabilities = predictLinear(model, { features: held.features }).values;
    const scores = Float64Array.from({ length: held.labels.length }, (_, i) => probabilities[2 * i + 1] as number);
    const predicted = Array.from(scores, (p) => (p >= 0.5 ? 1 : 0));
    return { accuracy: accuracy(held.labels, predicted), auc: rocAuc(scores, held.labels) };
  };
  const one = trainLinear({ ...options, params: { ...options.params, workers: 1 } });
  const oneMetrics = metrics(one);
  assert.ok(oneMetrics.auc > 0.9, `AUC ${oneMetrics.auc}`);
  for (const workers of [2, 3]) {
    const many = trainLinear({ ...options, params: { ...options.params, workers } });
    // Equal bits are the design; the tolerance states what a caller may rely on even so.
    assertClose(many.weights, one.weights, { atol: 1e-7 });
    assert.deepEqual(many.weights, one.weights, `${workers} workers`);
    assert.deepEqual(many.bias, one.bias, `${workers} workers`);
    assert.deepEqual(many.history, one.history, `${workers} workers`);
    assert.deepEqual(metrics(many), oneMetrics, `${workers} workers`);
  }
});

test('worker threads end after training', async () => {
  // The threads of the trainings above end first (waited for, not guessed from a quiet spell).
  await threadsEnded();
  let during = 0;
  trainLinear({ ...base, onProgress: () => (during = osThreads()) });
  assert.ok(during > BASELINE_THREADS, `threads before ${BASELINE_THREADS}, during ${during}`);
  await threadsEnded();
});

test('threads started before the features are scanned end when the scan finds a non-finite value', async () => {
  await threadsEnded();
  const features = Float32Array.from(base.features);
  features[features.length - 1] = Number.NaN;
  assert.throws(
    () => trainLinear({ ...base, features }),
    (error: unknown) => error instanceof StratumError && error.code === 'BAD_REQUEST' && /row 2999/.test(error.message),
  );
  await threadsEnded();
});

test('params.workers out of range is a BAD_REQUEST', () => {
  assert.throws(
    () => trainLinear({ ...base, params: { ...base.params, workers: 65 } }),
    (error: unknown) =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && /params\.workers/.test(error.message),
  );
});

test('the default thread count: one for mini-batches and small data, the cores (at most 4) for L-BFGS on large data', () => {
  assert.equal(autoLinearWorkers({ optimizer: 'adam', entries: 5e7, cores: 8 }), 1);
  assert.equal(autoLinearWorkers({ optimizer: 'lbfgs', entries: 3.4e6, cores: 8 }), 1);
  assert.equal(autoLinearWorkers({ optimizer: 'lbfgs', entries: 2e7, cores: 2 }), 2);
  assert.equal(autoLinearWorkers({ optimizer: 'lbfgs', entries: 2e7, cores: 16 }), 4);
  assert.equal(autoLinearWorkers({ optimizer: 'lbfgs', entries: 2e7, cores: 1 }), 1);
});
