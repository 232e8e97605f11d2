/**
 * Training on seeded synthetic data: known weights recovered (Adam, SGD, L-BFGS), separable
 * classes learned, L2 shrinkage, determinism for a seed, and early stopping on a validation split.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainLinear, type LinearTrainingParams } from '../../../src/train/linear/train-linear.ts';
import { evaluateClassifier } from '../../../src/train/metrics/evaluate.ts';
import { blobs, linearData } from './synthetic-data.ts';

const TRUE_WEIGHTS = [2, -1, 0.5, 3];
const TRUE_BIAS = 1.5;
const regression = linearData({ rows: 2000, weights: TRUE_WEIGHTS, bias: TRUE_BIAS, noise: 0.05, seed: 11 });

const BASE: LinearTrainingParams = { optimizer: 'adam', learningRate: 0.05, l2: 0, epochs: 40, batchSize: 32, seed: 1 };

function assertRecovers(model: { weights: Float32Array; bias: Float32Array }, tolerance: number): void {
  TRUE_WEIGHTS.forEach((w, j) => {
    const got = model.weights[j] ?? NaN;
    assert.ok(Math.abs(got - w) < tolerance, `weight ${j}: expected ${w} ± ${tolerance}, got ${got}`);
  });
  const bias = model.bias[0] ?? NaN;
  assert.ok(Math.abs(bias - TRUE_BIAS) < tolerance, `bias: expected ${TRUE_BIAS} ± ${tolerance}, got ${bias}`);
}

for (const [optimizer, tolerance, learningRate] of [
  ['adam', 0.05, 0.05],
  ['sgd', 0.05, 0.01],
  ['lbfgs', 0.01, 1],
] as const) {
  test(`regression recovers known weights with ${optimizer}`, () => {
    const model = trainLinear({
      features: regression.features,
      numFeatures: 4,
      labels: regression.labels,
      objective: 'regression',
      params: { ...BASE, optimizer, learningRate, epochs: optimizer === 'lbfgs' ? 100 : 40 },
    });
    assertRecovers(model, tolerance);
    const last = model.history[model.history.length - 1];
    // Noise variance 0.05² is the best achievable MSE.
    assert.ok(last !== undefined && last.loss < 0.01, `final MSE ${last?.loss}`);
  });
}

test('logistic regression separates two blobs with > 90% held-out accuracy', () => {
  const centres = [
    [-1.5, -1.5],
    [1.5, 1.5],
  ];
  const train = blobs({ rows: 1000, centres, seed: 2 });
  const heldOut = blobs({ rows: 1000, centres, seed: 3 });
  for (const optimizer of ['adam', 'lbfgs'] as const) {
    const model = trainLinear({
      features: train.features,
      numFeatures: 2,
      labels: train.labels,
      objective: 'binary',
      params: { ...BASE, optimizer, l2: 1e-3, epochs: optimizer === 'lbfgs' ? 50 : 20 },
    });
    const { values } = predictLinear(model, { features: heldOut.features });
    const report = evaluateClassifier({ labels: heldOut.labels, probabilities: values, numClasses: 2 });
    assert.ok(report.accuracy > 0.9, `${optimizer}: accuracy ${report.accuracy}`);
    assert.ok((report.rocAuc ?? 0) > 0.95, `${optimizer}: ROC-AUC ${report.rocAuc}`);
  }
});

test('softmax regression separates three blobs', () => {
  const centres = [
    [0, 4],
    [-4, -2],
    [4, -2],
  ];
  const train = blobs({ rows: 1500, centres, seed: 4 });
  const heldOut = blobs({ rows: 1500, centres, seed: 5 });
  for (const optimizer of ['adam', 'lbfgs'] as const) {
    const model = trainLinear({
      features: train.features,
      numFeatures: 2,
      labels: train.labels,
      objective: 'multiclass',
      numClasses: 3,
      params: { ...BASE, optimizer, l2: 1e-3, epochs: optimizer === 'lbfgs' ? 50 : 20 },
    });
    assert.equal(model.weights.length, 6);
    assert.equal(model.bias.length, 3);
    const { values, shape } = predictLinear(model, { features: heldOut.features });
    assert.deepEqual(shape, [1500, 3]);
    const report = evaluateClassifier({ labels: heldOut.labels, probabilities: values, numClasses: 3 });
    assert.ok(report.accuracy > 0.95, `${optimizer}: accuracy ${report.accuracy}`);
  }
});

test('L2 shrinks the weights', () => {
  const norm = (l2: number): number => {
    const model = trainLinear({
      features: regression.features,
      numFeatures: 4,
      labels: regression.labels,
      objective: 'regression',
      params: { ...BASE, optimizer: 'lbfgs', learningRate: 1, l2, epochs: 100 },
    });
    return Math.hypot(...model.weights);
  };
  const free = norm(0);
  const small = norm(0.5);
  const large = norm(5);
  assert.ok(small < free && large < small, `‖w‖: λ=0 ${free}, λ=0.5 ${small}, λ=5 ${large}`);
  // Orthogonal-ish unit-variance features: w ≈ 2·w*/(2 + λ), so λ = 5 keeps about 2/7 of the norm.
  assert.ok(Math.abs(large / free - 2 / 7) < 0.05, `ratio ${large / free}`);
});

test('the same seed gives the same model; another seed a different one', () => {
  const run = (seed: number): ReturnType<typeof trainLinear> =>
    trainLinear({
      features: regression.features,
      numFeatures: 4,
      labels: regression.labels,
      objective: 'regression',
      params: { ...BASE, epochs: 3, seed },
    });
  const a = run(7);
  const b = run(7);
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.bias, b.bias);
  assert.deepEqual(a.history, b.history);
  assert.notDeepEqual(run(8).weights, a.weights);
});

test('early stopping restores the best epoch when validation loss stops improving', () => {
  // The validation targets follow a different relationship, so validation loss soon rises.
  const shifted = linearData({ rows: 300, weights: [2, -1, 0.5, 0], bias: TRUE_BIAS, noise: 0.05, seed: 12 });
  const progress: number[] = [];
  const model = trainLinear({
    features: regression.features,
    numFeatures: 4,
    labels: regression.labels,
    objective: 'regression',
    params: {
      ...BASE,
      learningRate: 0.01,
      epochs: 200,
      earlyStoppingRounds: 3,
      validation: { features: shifted.features, labels: shifted.labels },
    },
    onProgress: (entry) => progress.push(entry.epoch),
  });
  assert.ok(model.history.length < 200, `ran ${model.history.length} epochs`);
  assert.equal(model.history.length, model.bestEpoch + 3);
  assert.deepEqual(
    progress,
    model.history.map((entry) => entry.epoch),
  );
  const losses = model.history.map((entry) => entry.validationLoss ?? NaN);
  const best = Math.min(...losses);
  assert.equal(losses[model.bestEpoch - 1], best);
  // The returned weights are the best epoch's: their validation MSE is the best one (float32 weights).
  const { values } = predictLinear(model, { features: shifted.features });
  let mse = 0;
  for (let r = 0; r < shifted.rows; r++) mse += ((values[r] ?? 0) - (shifted.labels[r] ?? 0)) ** 2;
  mse /= shifted.rows;
  assert.ok(Math.abs(mse - best) < 1e-4 * best, `validation MSE ${mse} vs best ${best}`);
});

test('history records training and validation loss every epoch', () => {
  const model = trainLinear({
    features: regression.features,
    numFeatures: 4,
    labels: regression.labels,
    objective: 'regression',
    params: { ...BASE, epochs: 5, validation: { features: regression.features, labels: regression.labels } },
  });
  assert.equal(model.history.length, 5);
  assert.equal(model.bestEpoch, 5);
  for (const [i, entry] of model.history.entries()) {
    assert.equal(entry.epoch, i + 1);
    // Same rows for training and validation, so the two losses are the same computation.
    assert.equal(entry.validationLoss, entry.loss);
  }
});
