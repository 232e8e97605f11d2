/**
 * The L-BFGS convergence tolerance: the default stops well before the budget with the quality of
 * a run to machine precision, `tolerance: 0` runs the whole budget, and bad values are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { minimizeLbfgs } from '../../../src/train/linear/lbfgs.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainLinear, type TrainLinearOptions } from '../../../src/train/linear/train-linear.ts';
import { evaluateClassifier } from '../../../src/train/metrics/evaluate.ts';
import { sparseData } from './synthetic-data.ts';

const F = 60;
const all = sparseData({ rows: 1500, numFeatures: F, density: 0.1, objective: 'binary', seed: 21 });
const train = { features: all.features.subarray(0, 1000 * F), labels: all.labels.subarray(0, 1000) };
const heldOut = { features: all.features.subarray(1000 * F), labels: all.labels.subarray(1000) };
const base: TrainLinearOptions = {
  features: train.features,
  numFeatures: F,
  labels: train.labels,
  objective: 'binary',
  params: { optimizer: 'lbfgs', learningRate: 1, l2: 1e-3, epochs: 150, batchSize: 1, seed: 0 },
};

function quality(model: ReturnType<typeof trainLinear>): { accuracy: number; auc: number } {
  const { values } = predictLinear(model, { features: heldOut.features });
  const report = evaluateClassifier({ labels: heldOut.labels, probabilities: values, numClasses: 2 });
  return { accuracy: report.accuracy, auc: report.rocAuc ?? NaN };
}

test('the default tolerance stops early with the quality of a run to machine precision', () => {
  const converged = trainLinear({ ...base, params: { ...base.params, tolerance: 1e-12 } });
  const early = trainLinear(base);
  assert.ok(early.history.length < converged.history.length, `${early.history.length} vs ${converged.history.length}`);
  const a = quality(early);
  const b = quality(converged);
  assert.ok(Math.abs(a.accuracy - b.accuracy) <= 0.005, `accuracy ${a.accuracy} vs ${b.accuracy}`);
  assert.ok(Math.abs(a.auc - b.auc) <= 0.005, `AUC ${a.auc} vs ${b.auc}`);
  const loss = (model: typeof early): number => model.history[model.history.length - 1]?.loss ?? NaN;
  assert.ok(Math.abs(loss(early) - loss(converged)) <= 1e-4 * loss(converged), `${loss(early)} vs ${loss(converged)}`);
});

test('a looser tolerance stops no later than a tighter one', () => {
  const iterations = (tolerance: number): number =>
    trainLinear({ ...base, params: { ...base.params, tolerance } }).history.length;
  assert.ok(iterations(1e-3) <= iterations(1e-5));
  assert.ok(iterations(1e-5) <= iterations(1e-8));
});

test('tolerance 0 runs the whole budget', () => {
  const model = trainLinear({ ...base, params: { ...base.params, epochs: 120, tolerance: 0 } });
  assert.equal(model.history.length, 120);
  assert.equal(model.bestEpoch, 120);
});

test('the gradient test is relative to the objective when |objective| > 1', () => {
  // Gradient 4e-3 at the start: above the default tolerance for f ≈ 0.004, within it for f ≈ 1e6.
  const run = (offset: number): number =>
    minimizeLbfgs({
      initial: new Float64Array([3]),
      maxIterations: 50,
      evaluate: ({ x, gradient }) => {
        const d = (x[0] ?? 0) - 1;
        gradient[0] = 2e-3 * d;
        return offset + 1e-3 * d * d;
      },
    }).iterations;
  assert.equal(run(1e6), 0);
  assert.ok(run(0) > 0);
});

test('params.tolerance must be a finite number ≥ 0', () => {
  for (const tolerance of [-1e-6, NaN, Infinity]) {
    assert.throws(
      () => trainLinear({ ...base, params: { ...base.params, tolerance } }),
      (error: unknown) =>
        error instanceof StratumError && error.code === 'BAD_REQUEST' && /params\.tolerance/.test(error.message),
    );
  }
});
