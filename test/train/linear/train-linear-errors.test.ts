/** Bad training requests fail before any work as BAD_REQUEST naming the parameter or row. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';

const VALID: TrainLinearOptions = {
  features: new Float32Array([0, 1, 1, 0, 2, 2, 3, 1]),
  numFeatures: 2,
  labels: [0, 1, 0, 1],
  objective: 'binary',
  params: { optimizer: 'adam', learningRate: 0.1, l2: 0, epochs: 2, batchSize: 2, seed: 1 },
};

function rejects(options: TrainLinearOptions, pattern: RegExp): void {
  assert.throws(
    () => trainLinear(options),
    (error: unknown) => {
      assert.ok(error instanceof StratumError, `expected a StratumError, got ${String(error)}`);
      assert.equal(error.code, 'BAD_REQUEST');
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('the valid baseline trains', () => {
  assert.equal(trainLinear(VALID).history.length, 2);
});

test('learning rate must be > 0', () => {
  for (const learningRate of [0, -0.1, NaN, Infinity]) {
    rejects({ ...VALID, params: { ...VALID.params, learningRate } }, /params\.learningRate must be/);
  }
});

test('epochs, batch size, l2, seed and early stopping are checked', () => {
  rejects({ ...VALID, params: { ...VALID.params, epochs: 0 } }, /params\.epochs must be an integer ≥ 1, got 0/);
  rejects({ ...VALID, params: { ...VALID.params, epochs: 1.5 } }, /params\.epochs/);
  rejects({ ...VALID, params: { ...VALID.params, batchSize: 0 } }, /params\.batchSize/);
  rejects({ ...VALID, params: { ...VALID.params, l2: -1 } }, /params\.l2/);
  rejects({ ...VALID, params: { ...VALID.params, seed: 0.5 } }, /params\.seed/);
  rejects({ ...VALID, params: { ...VALID.params, earlyStoppingRounds: 0 } }, /params\.earlyStoppingRounds/);
});

test('binary labels need both classes', () => {
  rejects({ ...VALID, labels: [1, 1, 1, 1] }, /labels: every row has class 1; .*both classes/);
  rejects({ ...VALID, labels: [0, 1, 2, 1] }, /labels: row 2 is 2, expected an integer class in \[0, 1\]/);
});

test('NaN or Infinity in features names the row and feature', () => {
  const withNaN = Float32Array.from(VALID.features);
  withNaN[5] = NaN;
  rejects({ ...VALID, features: withNaN }, /features: row 2, feature 1 is NaN/);
  const withInfinity = Float32Array.from(VALID.features);
  withInfinity[0] = -Infinity;
  rejects({ ...VALID, features: withInfinity }, /features: row 0, feature 0 is -Infinity/);
});

test('multiclass labels out of range name the row; numClasses is required', () => {
  const multiclass = { ...VALID, objective: 'multiclass', numClasses: 3 } as const;
  rejects({ ...multiclass, labels: [0, 1, 3, 2] }, /labels: row 2 is 3, expected an integer class in \[0, 2\]/);
  rejects({ ...multiclass, labels: [0, -1, 1, 2] }, /labels: row 1 is -1/);
  rejects({ ...multiclass, labels: [0, 1.5, 1, 2] }, /labels: row 1 is 1.5/);
  rejects({ ...VALID, objective: 'multiclass', labels: [0, 1, 2, 1] }, /numClasses must be an integer ≥ 2/);
});

test('shape mismatches and bad validation splits are reported', () => {
  rejects({ ...VALID, features: new Float32Array(7) }, /features must hold N×numFeatures values/);
  rejects({ ...VALID, labels: [0, 1, 0] }, /labels must have one label per row \(4\), got 3/);
  rejects({ ...VALID, objective: 'regression', labels: [0, NaN, 1, 2] }, /labels: row 1 is NaN/);
  rejects(
    { ...VALID, params: { ...VALID.params, validation: { features: new Float32Array([0, Infinity]), labels: [0] } } },
    /params\.validation\.features: row 0, feature 1 is Infinity/,
  );
  rejects(
    { ...VALID, params: { ...VALID.params, validation: { features: new Float32Array([0, 1]), labels: [5] } } },
    /params\.validation\.labels: row 0 is 5/,
  );
});

test('prediction checks its features too', () => {
  const model = trainLinear(VALID);
  assert.throws(
    () => predictLinear(model, { features: new Float32Array([1, NaN]) }),
    (error: unknown) => error instanceof StratumError && /row 0, feature 1 is NaN/.test(error.message),
  );
});
