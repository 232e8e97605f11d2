/**
 * Linear-model checkpoints: an Adam or SGD run interrupted after a checkpoint and resumed from it
 * ends with exactly the uninterrupted run's weights, history and best epoch; other data or
 * parameters, and L-BFGS, are refused with BAD_REQUEST.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';
import { blobs } from './synthetic-data.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-linear-checkpoint-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const centres = [
  [-1, -1, 0],
  [1, 1, 0.5],
];
const train = blobs({ rows: 600, centres, seed: 41 });
const validation = blobs({ rows: 200, centres, seed: 42 });
const base: TrainLinearOptions = {
  features: train.features,
  numFeatures: 3,
  labels: train.labels,
  objective: 'binary',
  params: {
    optimizer: 'adam',
    learningRate: 0.05,
    l2: 1e-3,
    epochs: 10,
    batchSize: 32,
    seed: 3,
    earlyStoppingRounds: 20,
    validation: { features: validation.features, labels: validation.labels },
  },
};

const isBadRequest =
  (message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof StratumError && error.code === 'BAD_REQUEST' && message.test(error.message);

for (const optimizer of ['adam', 'sgd'] as const) {
  test(`a resumed ${optimizer} run equals the uninterrupted one`, () => {
    const options = { ...base, params: { ...base.params, optimizer } };
    const path = join(folder, `${optimizer}.json`);
    assert.throws(
      () =>
        trainLinear({
          ...options,
          checkpoint: { path, everyEpochs: 5 },
          onProgress: ({ epoch }) => {
            if (epoch === 7) throw new Error('simulated crash');
          },
        }),
      /simulated crash/,
    );
    const resumed = trainLinear({ ...options, resumeFrom: path });
    const uninterrupted = trainLinear(options);
    assert.deepEqual(resumed.weights, uninterrupted.weights);
    assert.deepEqual(resumed.bias, uninterrupted.bias);
    assert.deepEqual(resumed.history, uninterrupted.history);
    assert.equal(resumed.bestEpoch, uninterrupted.bestEpoch);
  });
}

test('a checkpoint of other data or parameters is refused', () => {
  const path = join(folder, 'refuse.json');
  trainLinear({ ...base, params: { ...base.params, epochs: 2 }, checkpoint: { path, everyEpochs: 1 } });
  assert.throws(
    () => trainLinear({ ...base, params: { ...base.params, learningRate: 0.1 }, resumeFrom: path }),
    isBadRequest(/refuse\.json was written by a run with another learningRate/),
  );
  const other = blobs({ rows: 600, centres, seed: 43 });
  assert.throws(
    () => trainLinear({ ...base, features: other.features, resumeFrom: path }),
    isBadRequest(/another features/),
  );
});

test('L-BFGS refuses checkpoints', () => {
  assert.throws(
    () =>
      trainLinear({
        ...base,
        params: { ...base.params, optimizer: 'lbfgs' },
        checkpoint: { path: join(folder, 'lbfgs.json'), everyEpochs: 1 },
      }),
    isBadRequest(/L-BFGS is full-batch/),
  );
});
