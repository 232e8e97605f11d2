/**
 * Data-parallel GBDT over worker threads: identical models for a seed and a worker count,
 * the same quality as one thread, every objective, and no thread left behind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { trainGbdt, type TrainGbdtOptions } from '../../../src/train/gbdt/train-gbdt.ts';
import { BASELINE_THREADS, osThreads, threadsEnded } from '../../helpers/os-threads.ts';
import { makeDataset } from './synthetic-data.ts';

function accuracy(predicted: Int32Array | undefined, labels: Float32Array): number {
  assert.ok(predicted);
  let correct = 0;
  labels.forEach((label, i) => {
    if (predicted[i] === label) correct++;
  });
  return correct / labels.length;
}

describe('workers: 2', () => {
  const train = makeDataset({ kind: 'binary', numRows: 3000, seed: 21 });
  const heldOut = makeDataset({ kind: 'binary', numRows: 2000, seed: 22 });
  const options: TrainGbdtOptions = {
    ...train,
    objective: 'binary',
    params: { numTrees: 20, maxDepth: 4, rowSubsample: 0.8, colSubsample: 0.75, seed: 5, workers: 2 },
  };

  test('the same seed gives an identical model', () => {
    assert.equal(JSON.stringify(trainGbdt(options)), JSON.stringify(trainGbdt(options)));
  });

  test('quality equals one thread within a small tolerance', () => {
    const parallel = trainGbdt(options);
    const single = trainGbdt({ ...options, params: { ...options.params, workers: 1 } });
    assert.equal(parallel.trees.length, single.trees.length);
    const a = accuracy(predictGbdt(parallel, heldOut.features).labels, heldOut.labels);
    const b = accuracy(predictGbdt(single, heldOut.features).labels, heldOut.labels);
    assert.ok(a > 0.85, `accuracy ${a}`);
    assert.ok(Math.abs(a - b) < 0.01, `workers 2: ${a}, workers 1: ${b}`);
  });

  test('regression and multiclass train too, with 3 workers and validation', () => {
    const regression = makeDataset({ kind: 'regression', numRows: 1500, seed: 23 });
    const validation = makeDataset({ kind: 'regression', numRows: 500, seed: 24 });
    const params = { numTrees: 8, maxDepth: 3, seed: 1, validation };
    const threeWorkers = trainGbdt({ ...regression, objective: 'regression', params: { ...params, workers: 3 } });
    const one = trainGbdt({ ...regression, objective: 'regression', params });
    threeWorkers.validationLoss.forEach((loss, i) => {
      assert.ok(Math.abs(loss - (one.validationLoss[i] as number)) < 1e-6 * loss, `round ${i}`);
    });
    const multiclass = makeDataset({ kind: 'multiclass', numRows: 1500, seed: 25 });
    const model = trainGbdt({
      ...multiclass,
      objective: 'multiclass',
      numClasses: 3,
      params: { numTrees: 10, maxDepth: 4, workers: 2 },
    });
    assert.equal(model.trees[0]?.length, 3);
    assert.ok(accuracy(predictGbdt(model, multiclass.features).labels, multiclass.labels) > 0.8);
  });

  test('worker threads end after training and after a failed training', async () => {
    // The threads of the trainings above end first (waited for, not guessed from a quiet spell).
    await threadsEnded();
    let during = 0;
    trainGbdt({ ...options, onProgress: () => (during = osThreads()) });
    assert.ok(during > BASELINE_THREADS, `threads before ${BASELINE_THREADS}, during ${during}`);
    await threadsEnded();
    assert.throws(() =>
      trainGbdt({
        ...options,
        onProgress: () => {
          throw new Error('stop here');
        },
      }),
    );
    await threadsEnded();
  });

  test('params.workers out of range is a BAD_REQUEST', () => {
    assert.throws(
      () => trainGbdt({ ...options, params: { workers: 0 } }),
      /params\.workers must be an integer in \[1, 64\]/,
    );
  });
});
