/**
 * Training on one-hot-heavy data with sparse features (the default) gives the dense layout's model
 * up to summation order: the same splits here, leaf values within rounding; with workers,
 * subsampling and checkpoints too, and deterministic for a seed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import type { GbdtModel } from '../../../src/train/gbdt/gbdt-model.ts';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { trainGbdt, type TrainGbdtOptions } from '../../../src/train/gbdt/train-gbdt.ts';
import { makeOneHotDataset } from './synthetic-data.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-gbdt-sparse-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const train = makeOneHotDataset({ numRows: 4000, seed: 51 });
const heldOut = makeOneHotDataset({ numRows: 1000, seed: 52 });
const base: TrainGbdtOptions = {
  ...train,
  objective: 'binary',
  params: { numTrees: 15, maxDepth: 5, seed: 3 },
};

function withParams(params: NonNullable<TrainGbdtOptions['params']>): TrainGbdtOptions {
  return { ...base, params: { ...base.params, ...params } };
}

/** Same tree shapes, split features and thresholds; leaf values and predictions within rounding. */
function assertSameModel(actual: GbdtModel, expected: GbdtModel): void {
  assert.equal(actual.trees.length, expected.trees.length);
  actual.trees.forEach((round, r) => {
    round.forEach((tree, k) => {
      const other = expected.trees[r]?.[k];
      assert.ok(other);
      assert.deepEqual(tree.feature, other.feature, `round ${r}`);
      assert.deepEqual(tree.threshold, other.threshold, `round ${r}`);
      tree.value.forEach((value, node) => {
        assert.ok(Math.abs(value - (other.value[node] as number)) <= 1e-6, `round ${r}, node ${node}`);
      });
    });
  });
  const a = predictGbdt(actual, heldOut.features).outputs;
  const b = predictGbdt(expected, heldOut.features).outputs;
  a.forEach((p, i) => assert.ok(Math.abs(p - (b[i] as number)) < 1e-5, `prediction ${i}`));
}

describe('sparse features', () => {
  test('the default equals the all-dense layout (sparseThreshold 1) and all-sparse (0)', () => {
    const dense = trainGbdt(withParams({ sparseThreshold: 1 }));
    assertSameModel(trainGbdt(base), dense);
    assertSameModel(trainGbdt(withParams({ sparseThreshold: 0 })), dense);
  });

  test('with 2 workers, row and column subsampling: deterministic and equal to the dense layout', () => {
    const params = { workers: 2, rowSubsample: 0.7, colSubsample: 0.6 };
    const sparse = trainGbdt(withParams(params));
    assert.equal(JSON.stringify(trainGbdt(withParams(params))), JSON.stringify(sparse));
    assertSameModel(sparse, trainGbdt(withParams({ ...params, sparseThreshold: 1 })));
  });

  test('a feature sparse in one shard and dense in the other trains like the dense layout', () => {
    // Feature 0 is constant over the first half of the rows (worker 2's shard has it uniform).
    const features = train.features.slice();
    for (let i = 0; i < train.labels.length / 2; i++) features[i * train.numFeatures] = 0.25;
    const options = { ...base, features, params: { ...base.params, workers: 2 } };
    const dense = trainGbdt({ ...options, params: { ...options.params, sparseThreshold: 1 } });
    assertSameModel(trainGbdt(options), dense);
  });

  test('a resumed run equals the uninterrupted one', () => {
    const path = join(folder, 'resume.json');
    const options = withParams({ workers: 2, rowSubsample: 0.8 });
    assert.throws(
      () =>
        trainGbdt({
          ...options,
          checkpoint: { path, everyRounds: 5 },
          onProgress: ({ round }) => {
            if (round === 7) throw new Error('simulated crash');
          },
        }),
      /simulated crash/,
    );
    assert.equal(JSON.stringify(trainGbdt({ ...options, resumeFrom: path })), JSON.stringify(trainGbdt(options)));
  });

  test('sparseThreshold outside [0, 1] is a BAD_REQUEST', () => {
    for (const sparseThreshold of [-0.1, 1.5, Number.NaN]) {
      assert.throws(
        () => trainGbdt(withParams({ sparseThreshold })),
        (error: unknown) =>
          error instanceof StratumError &&
          error.code === 'BAD_REQUEST' &&
          /params\.sparseThreshold must be in \[0, 1\]/.test(error.message),
      );
    }
  });
});
