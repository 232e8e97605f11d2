/**
 * Data-parallel linear training: with `workers: 2` the objective and gradient are summed over two
 * threads; results are identical for a seed, equal to one thread's within float tolerance, and
 * no thread outlives training.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { BASELINE_THREADS, osThreads, threadsEnded } from '../../helpers/os-threads.ts';
import { blobs } from './synthetic-data.ts';

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
  test(`${optimizer}: identical for a seed with 2 workers, and equal to 1 worker within tolerance`, () => {
    const options = { ...base, params: { ...base.params, optimizer, learningRate: optimizer === 'adam' ? 0.05 : 1 } };
    const a = trainLinear(options);
    const b = trainLinear(options);
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.history, b.history);
    const single = trainLinear({ ...options, params: { ...options.params, workers: 1 } });
    assertClose(a.weights, single.weights, { atol: 1e-4 });
    assertClose(a.bias, single.bias, { atol: 1e-4 });
    const lastLoss = (model: typeof a): number => model.history[model.history.length - 1]?.loss ?? NaN;
    assert.ok(Math.abs(lastLoss(a) - lastLoss(single)) < 1e-6, `${lastLoss(a)} vs ${lastLoss(single)}`);
  });
}

test('worker threads end after training', async () => {
  // The threads of the trainings above end first (waited for, not guessed from a quiet spell).
  await threadsEnded();
  let during = 0;
  trainLinear({ ...base, onProgress: () => (during = osThreads()) });
  assert.ok(during > BASELINE_THREADS, `threads before ${BASELINE_THREADS}, during ${during}`);
  await threadsEnded();
});

test('params.workers out of range is a BAD_REQUEST', () => {
  assert.throws(
    () => trainLinear({ ...base, params: { ...base.params, workers: 65 } }),
    (error: unknown) =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && /params\.workers/.test(error.message),
  );
});
