/**
 * GBDT training: quality on seeded synthetic problems, determinism for a seed, early stopping
 * and BAD_REQUEST for malformed options.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import type { GbdtTree } from '../../../src/train/gbdt/gbdt-model.ts';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { trainGbdt, type TrainGbdtOptions } from '../../../src/train/gbdt/train-gbdt.ts';
import { makeDataset } from './synthetic-data.ts';

const PARAMS = { numTrees: 60, maxDepth: 5, learningRate: 0.2, seed: 11 } as const;

function accuracy(predicted: Int32Array, labels: Float32Array): number {
  let correct = 0;
  labels.forEach((label, i) => {
    if (predicted[i] === label) correct++;
  });
  return correct / labels.length;
}

describe('quality on held-out data', () => {
  test('regression: R² far above the mean predictor', () => {
    const train = makeDataset({ kind: 'regression', numRows: 4000, seed: 1 });
    const heldOut = makeDataset({ kind: 'regression', numRows: 2000, seed: 2 });
    const model = trainGbdt({ ...train, objective: 'regression', params: PARAMS });
    const { outputs } = predictGbdt(model, heldOut.features);
    const mean = heldOut.labels.reduce((sum, y) => sum + y, 0) / heldOut.labels.length;
    let residual = 0;
    let total = 0;
    heldOut.labels.forEach((y, i) => {
      residual += (y - (outputs[i] as number)) ** 2;
      total += (y - mean) ** 2;
    });
    const r2 = 1 - residual / total;
    assert.ok(r2 > 0.9, `R² ${r2}`);
  });

  test('binary: accuracy well above chance and probabilities that sum to 1', () => {
    const train = makeDataset({ kind: 'binary', numRows: 4000, seed: 3 });
    const heldOut = makeDataset({ kind: 'binary', numRows: 2000, seed: 4 });
    const model = trainGbdt({ ...train, objective: 'binary', params: PARAMS });
    const { outputs, labels } = predictGbdt(model, heldOut.features);
    assert.ok(labels);
    const acc = accuracy(labels, heldOut.labels);
    assert.ok(acc > 0.88, `accuracy ${acc}`);
    for (let i = 0; i < heldOut.labels.length; i++) {
      assert.ok(Math.abs((outputs[2 * i] as number) + (outputs[2 * i + 1] as number) - 1) < 1e-6);
    }
  });

  test('multiclass: accuracy well above chance', () => {
    const train = makeDataset({ kind: 'multiclass', numRows: 4000, seed: 5 });
    const heldOut = makeDataset({ kind: 'multiclass', numRows: 2000, seed: 6 });
    const model = trainGbdt({ ...train, objective: 'multiclass', numClasses: 3, params: PARAMS });
    assert.equal(model.trees[0]?.length, 3);
    const { labels } = predictGbdt(model, heldOut.features);
    assert.ok(labels);
    const acc = accuracy(labels, heldOut.labels);
    assert.ok(acc > 0.8, `accuracy ${acc} (chance ≈ 0.33)`);
  });

  test('training loss decreases and onProgress reports every round', () => {
    const train = makeDataset({ kind: 'binary', numRows: 1000, seed: 7 });
    const losses: number[] = [];
    trainGbdt({
      ...train,
      objective: 'binary',
      params: { numTrees: 10, maxDepth: 3 },
      onProgress: (progress) => losses.push(progress.trainLoss),
    });
    assert.equal(losses.length, 10);
    assert.ok((losses[9] as number) < (losses[0] as number));
  });
});

describe('tree shape', () => {
  const train = makeDataset({ kind: 'regression', numRows: 2000, seed: 14 });
  const depthOf = (tree: GbdtTree, node = 0): number =>
    (tree.feature[node] as number) < 0
      ? 0
      : 1 + Math.max(depthOf(tree, tree.left[node] as number), depthOf(tree, tree.right[node] as number));
  const leavesOf = (tree: GbdtTree): number => tree.feature.filter((feature) => feature < 0).length;

  test('maxDepth bounds the depth; without a leaf budget trees fill it', () => {
    const model = trainGbdt({ ...train, objective: 'regression', params: { numTrees: 5, maxDepth: 3 } });
    for (const [tree] of model.trees) {
      assert.ok(tree);
      assert.equal(depthOf(tree), 3);
      assert.equal(leavesOf(tree), 8);
    }
  });

  test('maxLeaves bounds the leaves, growing best-first beyond a balanced depth', () => {
    const model = trainGbdt({
      ...train,
      objective: 'regression',
      params: { numTrees: 5, maxDepth: 12, maxLeaves: 6, minChildWeight: 0 },
    });
    for (const [tree] of model.trees) {
      assert.ok(tree);
      assert.equal(leavesOf(tree), 6);
      // Children always have larger ids than their parent (ONNX node ids are written as is).
      tree.left.forEach((child, node) => assert.ok(child < 0 || (child > node && (tree.right[node] as number) > node)));
    }
  });
});

describe('determinism', () => {
  const train = makeDataset({ kind: 'binary', numRows: 2000, seed: 8 });
  const options: TrainGbdtOptions = {
    ...train,
    objective: 'binary',
    params: { numTrees: 15, maxDepth: 4, rowSubsample: 0.7, colSubsample: 0.6, seed: 42 },
  };

  test('the same seed gives an identical model', () => {
    assert.equal(JSON.stringify(trainGbdt(options)), JSON.stringify(trainGbdt(options)));
  });

  test('another seed with subsampling gives a different model', () => {
    const other = trainGbdt({ ...options, params: { ...options.params, seed: 43 } });
    assert.notEqual(JSON.stringify(trainGbdt(options)), JSON.stringify(other));
  });
});

describe('early stopping', () => {
  test('stops before numTrees once the validation loss stops improving, keeping the best rounds', () => {
    // Pure-noise labels: the held-out loss bottoms out almost immediately.
    const train = makeDataset({ kind: 'regression', numRows: 1000, seed: 9 });
    const noisy = train.labels.map((_, i) => Math.sin(i * 12.9898) * 1000 - Math.floor(Math.sin(i * 12.9898) * 1000));
    const validation = makeDataset({ kind: 'regression', numRows: 500, seed: 10 });
    const model = trainGbdt({
      ...train,
      labels: noisy,
      objective: 'regression',
      params: {
        numTrees: 200,
        maxDepth: 6,
        learningRate: 0.3,
        minChildWeight: 0,
        earlyStoppingRounds: 5,
        validation: { features: validation.features, labels: validation.labels.map((_, i) => (i % 7) / 7) },
      },
    });
    assert.ok(model.roundsTrained < 200, `trained ${model.roundsTrained} rounds`);
    assert.equal(model.validationLoss.length, model.roundsTrained);
    assert.equal(model.trees.length, model.roundsTrained - 5);
    const best = Math.min(...model.validationLoss);
    assert.equal(model.validationLoss[model.trees.length - 1], best);
  });

  test('keeps training while the validation loss improves', () => {
    const train = makeDataset({ kind: 'regression', numRows: 2000, seed: 11 });
    const validation = makeDataset({ kind: 'regression', numRows: 1000, seed: 12 });
    const model = trainGbdt({
      ...train,
      objective: 'regression',
      params: { numTrees: 20, maxDepth: 4, learningRate: 0.05, earlyStoppingRounds: 5, validation },
    });
    assert.equal(model.trees.length, 20);
  });
});

describe('bad requests', () => {
  const data = makeDataset({ kind: 'binary', numRows: 50, seed: 13 });
  const base: TrainGbdtOptions = { ...data, objective: 'binary' };
  const cases: [string, TrainGbdtOptions, RegExp][] = [
    ['learningRate 0', { ...base, params: { learningRate: 0 } }, /learningRate/],
    ['negative learningRate', { ...base, params: { learningRate: -0.1 } }, /learningRate/],
    ['maxDepth 0', { ...base, params: { maxDepth: 0 } }, /maxDepth/],
    ['numTrees 0', { ...base, params: { numTrees: 0 } }, /numTrees/],
    ['rowSubsample 0', { ...base, params: { rowSubsample: 0 } }, /rowSubsample/],
    ['colSubsample above 1', { ...base, params: { colSubsample: 1.5 } }, /colSubsample/],
    ['maxLeaves 1', { ...base, params: { maxLeaves: 1 } }, /maxLeaves/],
    ['negative lambda', { ...base, params: { lambda: -1 } }, /lambda/],
    ['maxBins 256', { ...base, params: { maxBins: 256 } }, /maxBins/],
    ['early stopping without validation', { ...base, params: { earlyStoppingRounds: 3 } }, /earlyStoppingRounds/],
    ['one class for binary', { ...base, labels: new Float32Array(50) }, /both classes/],
    ['label 2 for binary', { ...base, labels: data.labels.map((y, i) => (i === 3 ? 2 : y)) }, /labels: row 3/],
    ['multiclass without numClasses', { ...base, objective: 'multiclass' }, /numClasses/],
    ['labels of the wrong length', { ...base, labels: data.labels.subarray(1) }, /labels: expected one label per row/],
    ['ragged features', { ...base, features: data.features.subarray(1) }, /features: length/],
    [
      'NaN feature',
      { ...base, features: data.features.map((v, i) => (i === 17 ? NaN : v)) },
      /row 2, feature 1 is NaN/,
    ],
    [
      'NaN validation feature',
      { ...base, params: { validation: { features: new Float32Array(8).fill(NaN), labels: new Float32Array(1) } } },
      /validation\.features/,
    ],
  ];
  for (const [name, options, message] of cases) {
    test(name, () => {
      assert.throws(
        () => trainGbdt(options),
        (error: unknown) =>
          error instanceof StratumError && error.code === 'BAD_REQUEST' && message.test(error.message),
      );
    });
  }
});
