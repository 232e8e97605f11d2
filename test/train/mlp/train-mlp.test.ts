/**
 * The MLP trainer learns what a linear model cannot (XOR, two moons), fits every objective, is
 * deterministic for a seed, restores the best epoch under early stopping, and drops units only
 * while training.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import type { MlpModel } from '../../../src/train/mlp/mlp-model.ts';
import { predictMlp } from '../../../src/train/mlp/predict-mlp.ts';
import { trainMlp, type MlpTrainingParams, type TrainMlpOptions } from '../../../src/train/mlp/train-mlp.ts';
import { blobs, linearData } from '../linear/synthetic-data.ts';
import { accuracy, twoMoons, xor, type Labelled } from './nonlinear-data.ts';

const PARAMS: MlpTrainingParams = {
  hiddenLayers: [16, 16],
  learningRate: 0.01,
  l2: 1e-4,
  epochs: 40,
  batchSize: 32,
  seed: 7,
};

function binary(data: Labelled, params: Partial<MlpTrainingParams> = {}): TrainMlpOptions {
  return {
    features: data.features,
    numFeatures: 2,
    labels: data.labels,
    objective: 'binary',
    params: { ...PARAMS, ...params },
  };
}

function linearAccuracy(train: Labelled, test: Labelled): number {
  const model = trainLinear({
    features: train.features,
    numFeatures: 2,
    labels: train.labels,
    objective: 'binary',
    params: { optimizer: 'lbfgs', learningRate: 1, l2: 1e-4, epochs: 100, batchSize: 64, seed: 1 },
  });
  return accuracy({ values: predictLinear(model, { features: test.features }).values, width: 2, labels: test.labels });
}

function mlpAccuracy(model: MlpModel, test: Labelled): number {
  return accuracy({ values: predictMlp(model, { features: test.features }).values, width: 2, labels: test.labels });
}

function sameWeights(a: MlpModel, b: MlpModel): boolean {
  return a.layers.every((layer, i) => {
    const other = b.layers[i];
    return (
      other !== undefined &&
      Buffer.from(layer.weights.buffer).equals(Buffer.from(other.weights.buffer)) &&
      Buffer.from(layer.bias.buffer).equals(Buffer.from(other.bias.buffer))
    );
  });
}

for (const { name, make } of [
  { name: 'XOR', make: (seed: number) => xor({ rows: 2000, seed }) },
  { name: 'two moons', make: (seed: number) => twoMoons({ rows: 2000, noise: 0.15, seed }) },
]) {
  for (const activation of ['relu', 'tanh'] as const) {
    test(`${name} (${activation}): the MLP separates what a linear model cannot`, (t) => {
      const train = make(1);
      const held = make(2);
      const { model, history } = trainMlp(binary(train, { activation }));
      const mlp = mlpAccuracy(model, held);
      const linear = linearAccuracy(train, held);
      t.diagnostic(`held-out accuracy: mlp ${mlp.toFixed(3)}, linear ${linear.toFixed(3)}`);
      assert.ok(mlp > 0.95, `mlp accuracy ${mlp}`);
      assert.ok(mlp > linear + 0.08, `mlp ${mlp} is not clearly above linear ${linear}`);
      assert.equal(history.length, PARAMS.epochs);
      assert.ok((history.at(-1)?.loss ?? 1) < (history[0]?.loss ?? 0) / 2, 'the training loss falls');
    });
  }
}

test('multiclass: four blobs are classified and probabilities sum to 1', () => {
  const centres = [
    [0, 2, 1],
    [-2, -1, 0],
    [2, -1, -1],
    [0, 0, 3],
  ];
  const train = blobs({ rows: 1200, centres, seed: 3 });
  const held = blobs({ rows: 800, centres, seed: 4 });
  const { model } = trainMlp({
    features: train.features,
    numFeatures: 3,
    labels: train.labels,
    objective: 'multiclass',
    numClasses: 4,
    params: { ...PARAMS, epochs: 15 },
  });
  const { values, shape } = predictMlp(model, { features: held.features });
  assert.deepEqual(shape, [800, 4]);
  for (let r = 0; r < 800; r++) {
    const sum = values.subarray(4 * r, 4 * r + 4).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
  }
  const acc = accuracy({ values, width: 4, labels: held.labels });
  assert.ok(acc > 0.85, `accuracy ${acc}`);
});

test('regression: fits y = sin(3x₀) + x₁² far better than a linear model', () => {
  const make = (seed: number): Labelled => {
    const data = linearData({ rows: 2000, weights: [0, 0], bias: 0, noise: 0, seed });
    const labels = new Float64Array(data.rows);
    for (let r = 0; r < data.rows; r++) {
      const x0 = data.features[2 * r] as number;
      const x1 = data.features[2 * r + 1] as number;
      labels[r] = Math.sin(3 * x0) + x1 * x1;
    }
    return { ...data, labels };
  };
  const train = make(5);
  const held = make(6);
  const mse = (predictions: Float32Array): number =>
    predictions.reduce((sum, p, r) => sum + (p - (held.labels[r] as number)) ** 2, 0) / held.rows;
  const { model } = trainMlp({
    features: train.features,
    numFeatures: 2,
    labels: train.labels,
    objective: 'regression',
    params: { ...PARAMS, hiddenLayers: [32, 32], activation: 'tanh' },
  });
  const linear = trainLinear({
    features: train.features,
    numFeatures: 2,
    labels: train.labels,
    objective: 'regression',
    params: { optimizer: 'lbfgs', learningRate: 1, l2: 0, epochs: 100, batchSize: 64, seed: 1 },
  });
  const mlpMse = mse(predictMlp(model, { features: held.features }).values);
  const linearMse = mse(predictLinear(linear, { features: held.features }).values);
  assert.ok(mlpMse < linearMse / 5, `mlp MSE ${mlpMse} vs linear ${linearMse}`);
});

test('the same seed gives the same model bit for bit; another seed does not', () => {
  const train = twoMoons({ rows: 600, noise: 0.2, seed: 8 });
  const options = binary(train, { epochs: 5, dropout: 0.2 });
  const a = trainMlp(options);
  const b = trainMlp(options);
  assert.ok(sameWeights(a.model, b.model));
  assert.deepEqual(a.history, b.history);
  const c = trainMlp(binary(train, { epochs: 5, dropout: 0.2, seed: 8 }));
  assert.ok(!sameWeights(a.model, c.model));
});

test('early stopping returns the best epoch, exactly the model of a run that stops there', () => {
  // Few noisy rows and a wide network: the validation loss bottoms out, then rises as it overfits.
  const train = twoMoons({ rows: 120, noise: 0.45, seed: 9 });
  const validation = twoMoons({ rows: 1000, noise: 0.45, seed: 10 });
  const params: Partial<MlpTrainingParams> = {
    hiddenLayers: [128, 128],
    learningRate: 0.02,
    l2: 0,
    epochs: 300,
    batchSize: 16,
    validation: { features: validation.features, labels: validation.labels },
  };
  const progress: number[] = [];
  const stopped = trainMlp({
    ...binary(train, { ...params, earlyStoppingRounds: 5 }),
    onProgress: (entry) => progress.push(entry.epoch),
  });
  const { history, bestEpoch } = stopped;
  assert.deepEqual(
    progress,
    history.map((entry) => entry.epoch),
  );
  assert.ok(history.length < 300, `stopped after ${history.length} epochs`);
  assert.equal(history.length, bestEpoch + 5, 'stops 5 epochs after the best one');
  const losses = history.map((entry) => entry.validationLoss ?? Infinity);
  assert.equal(Math.min(...losses), losses[bestEpoch - 1]);
  assert.ok((losses.at(-1) as number) > (losses[bestEpoch - 1] as number));

  const plain = trainMlp(binary(train, { ...params, epochs: bestEpoch }));
  assert.ok(sameWeights(stopped.model, plain.model), 'the returned weights are those after the best epoch');
  assert.equal(plain.bestEpoch, bestEpoch);
});

test('dropout acts only while training: evaluation and prediction are deterministic and dropout-free', () => {
  const train = twoMoons({ rows: 800, noise: 0.2, seed: 11 });
  const validation = twoMoons({ rows: 400, noise: 0.2, seed: 12 });
  const options = binary(train, {
    hiddenLayers: [32, 32],
    dropout: 0.5,
    epochs: 10,
    validation: { features: validation.features, labels: validation.labels },
  });
  const { model, history } = trainMlp(options);
  const without = trainMlp(binary(train, { ...options.params, dropout: 0 }));
  assert.ok(!sameWeights(model, without.model), 'dropout changes training');

  const first = predictMlp(model, { features: validation.features }).values;
  const second = predictMlp(model, { features: validation.features }).values;
  assert.deepEqual(first, second, 'prediction draws no random mask');
  // The reported validation loss is that of the dropout-free network prediction uses.
  let logLoss = 0;
  for (let r = 0; r < validation.rows; r++) {
    const p = first[2 * r + (validation.labels[r] as number)] as number;
    logLoss -= Math.log(p);
  }
  logLoss /= validation.rows;
  const reported = history.at(-1)?.validationLoss ?? NaN;
  assert.ok(Math.abs(logLoss - reported) < 1e-4, `validation loss ${reported}, recomputed ${logLoss}`);
  assert.ok(mlpAccuracy(model, validation) > 0.9);
});
