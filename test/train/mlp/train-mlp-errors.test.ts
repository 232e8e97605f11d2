/** Bad training requests and malformed models fail before any work as BAD_REQUEST naming the parameter or row. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { exportMlpOnnx } from '../../../src/train/mlp/export-onnx.ts';
import { predictMlp } from '../../../src/train/mlp/predict-mlp.ts';
import { trainMlp, type MlpTrainingParams, type TrainMlpOptions } from '../../../src/train/mlp/train-mlp.ts';

const VALID: TrainMlpOptions = {
  features: new Float32Array([0, 1, 1, 0, 2, 2, 3, 1]),
  numFeatures: 2,
  labels: [0, 1, 0, 1],
  objective: 'binary',
  params: { hiddenLayers: [3], learningRate: 0.1, l2: 0, epochs: 2, batchSize: 2, seed: 1 },
};

function withParams(params: Partial<Record<keyof MlpTrainingParams, unknown>>): TrainMlpOptions {
  return { ...VALID, params: { ...VALID.params, ...params } as MlpTrainingParams };
}

function isBadRequest(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof StratumError, `expected a StratumError, got ${String(error)}`);
    assert.equal(error.code, 'BAD_REQUEST');
    assert.equal(error.status, 400);
    assert.match(error.message, pattern);
    return true;
  };
}

function rejects(options: TrainMlpOptions, pattern: RegExp): void {
  assert.throws(() => trainMlp(options), isBadRequest(pattern));
}

test('the valid baseline trains', () => {
  assert.equal(trainMlp(VALID).history.length, 2);
});

test('layer widths, activation and dropout are checked', () => {
  rejects(withParams({ hiddenLayers: [4, 0] }), /params\.hiddenLayers\[1\] must be an integer ≥ 1, got 0/);
  rejects(withParams({ hiddenLayers: [2.5] }), /params\.hiddenLayers\[0\] must be an integer ≥ 1, got 2\.5/);
  rejects(withParams({ hiddenLayers: 8 }), /params\.hiddenLayers must be an array of layer widths/);
  rejects(withParams({ activation: 'sigmoid' }), /params\.activation must be 'relu' or 'tanh', got sigmoid/);
  for (const dropout of [1, -0.1, NaN]) {
    rejects(withParams({ dropout }), /params\.dropout must be a number in \[0, 1\)/);
  }
});

test('optimiser settings are checked', () => {
  for (const learningRate of [0, -0.1, NaN, Infinity])
    rejects(withParams({ learningRate }), /params\.learningRate must be/);
  rejects(withParams({ epochs: 0 }), /params\.epochs must be an integer ≥ 1, got 0/);
  rejects(withParams({ batchSize: 1.5 }), /params\.batchSize/);
  rejects(withParams({ l2: -1 }), /params\.l2/);
  rejects(withParams({ seed: 0.5 }), /params\.seed/);
  rejects(withParams({ earlyStoppingRounds: 0 }), /params\.earlyStoppingRounds/);
  rejects({ ...VALID, objective: 'ranking' as 'binary' }, /objective must be 'regression', 'binary' or 'multiclass'/);
});

test('features and labels name the bad row', () => {
  const withNaN = Float32Array.from(VALID.features);
  withNaN[5] = NaN;
  rejects({ ...VALID, features: withNaN }, /features: row 2, feature 1 is NaN/);
  rejects({ ...VALID, features: new Float32Array(7) }, /features must hold N×numFeatures values/);
  rejects({ ...VALID, labels: [0, 1, 0] }, /labels must have one label per row \(4\), got 3/);
  rejects({ ...VALID, labels: [1, 1, 1, 1] }, /labels: every row has class 1/);
  rejects({ ...VALID, objective: 'multiclass', numClasses: 3, labels: [0, 1, 3, 2] }, /labels: row 2 is 3/);
  rejects({ ...VALID, objective: 'multiclass', labels: [0, 1, 2, 1] }, /numClasses must be an integer ≥ 2/);
  rejects(
    withParams({ validation: { features: new Float32Array([0, Infinity]), labels: [0] } }),
    /params\.validation\.features: row 0, feature 1 is Infinity/,
  );
});

test('prediction and export reject a model whose layers do not chain', () => {
  const { model } = trainMlp(VALID);
  const [hidden, output] = model.layers;
  assert.ok(hidden && output);
  const broken = { ...model, layers: [hidden, { ...output, inputSize: 4 }] };
  assert.throws(
    () => predictMlp(broken, { features: new Float32Array(2) }),
    isBadRequest(/model\.layers\[1\]\.inputSize is 4, expected 3/),
  );
  assert.throws(() => exportMlpOnnx(broken), isBadRequest(/model\.layers\[1\]/));
  const short = { ...model, layers: [hidden, { ...output, bias: new Float32Array(2) }] };
  assert.throws(
    () => exportMlpOnnx(short),
    isBadRequest(/model\.layers\[1\]\.bias must be a Float32Array of length 1/),
  );
  assert.throws(
    () => predictMlp(model, { features: new Float32Array([1, NaN]) }),
    isBadRequest(/row 0, feature 1 is NaN/),
  );
});
