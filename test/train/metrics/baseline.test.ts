/**
 * The baselines beside a model's metrics, against values worked out by hand on small made-up
 * splits: the prior (the training split's class frequencies, so always its majority class) and the
 * training mean.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { classifierBaseline, regressorBaseline } from '../../../src/train/metrics/baseline.ts';
import { assertClose } from '../../helpers/assert-close.ts';

// Hand-computed values: only float rounding may differ.
const TOLERANCE = { atol: 1e-12 };

test('binary: the majority class of the training split, scored on the held-out labels', () => {
  // Training: 6 × class 0, 2 × class 1 → prior [0.75, 0.25], always answers 0.
  // Held out: 0 0 0 1 1 → accuracy 3/5; recalls 1 and 0; precision of class 0 is 3/5, of class 1 0
  // (never predicted); F1 of class 0 is 2·(3/5)·1 / (3/5 + 1) = 3/4.
  const baseline = classifierBaseline({
    trainingLabels: [0, 0, 1, 0, 0, 1, 0, 0],
    labels: [0, 0, 0, 1, 1],
    numClasses: 2,
  });
  assert.equal(baseline.majorityClass, 0);
  assert.deepEqual(baseline.classFrequencies, [0.75, 0.25]);
  assertClose(baseline.accuracy, 3 / 5, TOLERANCE);
  assertClose(baseline.balancedAccuracy, 1 / 2, TOLERANCE);
  assertClose(baseline.macro.recall, 1 / 2, TOLERANCE);
  assertClose(baseline.macro.precision, 3 / 10, TOLERANCE);
  assertClose(baseline.macro.f1, 3 / 8, TOLERANCE);
  assert.deepEqual(baseline.confusionMatrix, [
    [3, 0],
    [2, 0],
  ]);
  // Every row gets the same score: ROC-AUC one half, average precision the positive rate.
  assertClose(baseline.rocAuc, 0.5, TOLERANCE);
  assertClose(baseline.prAuc, 2 / 5, TOLERANCE);
  assertClose(baseline.logLoss, -(3 * Math.log(0.75) + 2 * Math.log(0.25)) / 5, TOLERANCE);
  assert.deepEqual(JSON.parse(JSON.stringify(baseline)), baseline);
});

test('multiclass: the first of the most frequent classes; balanced accuracy counts only classes present', () => {
  // Training: class 1 and class 2 twice each, class 0 once → always answers 1 (the first of the tie).
  // Held out: 1 1 2 2 (no class 0) → accuracy 1/2; recalls: class 1 1, class 2 0 → balanced 1/2,
  // while macro recall averages over all three classes, class 0 counting 0: 1/3.
  const baseline = classifierBaseline({ trainingLabels: [2, 1, 0, 2, 1], labels: [1, 1, 2, 2], numClasses: 3 });
  assert.equal(baseline.majorityClass, 1);
  assertClose(baseline.accuracy, 1 / 2, TOLERANCE);
  assertClose(baseline.balancedAccuracy, 1 / 2, TOLERANCE);
  assertClose(baseline.macro.recall, 1 / 3, TOLERANCE);
});

test('regression: the training mean, scored on the held-out targets', () => {
  // Training mean 2; held out 1, 2, 6 → errors −1, 0, 4: RMSE √(17/3), MAE 5/3; the held-out mean
  // is 3, so SS_tot = 4 + 1 + 9 = 14 and R² = 1 − 17/14 (below 0: the training mean is not the
  // held-out mean).
  const baseline = regressorBaseline({ trainingTargets: [1, 2, 3], targets: [1, 2, 6] });
  assert.equal(baseline.mean, 2);
  assertClose(baseline.rmse, Math.sqrt(17 / 3), TOLERANCE);
  assertClose(baseline.mae, 5 / 3, TOLERANCE);
  assertClose(baseline.r2, 1 - 17 / 14, TOLERANCE);
  // When the training mean is the held-out mean, R² is exactly 0.
  assert.equal(regressorBaseline({ trainingTargets: [0, 4], targets: [1, 3] }).r2, 0);
});

test('an empty or out-of-range training split is a BAD_REQUEST naming it', () => {
  const isBadRequest =
    (pattern: RegExp) =>
    (error: unknown): boolean =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);
  assert.throws(
    () => classifierBaseline({ trainingLabels: [], labels: [0], numClasses: 2 }),
    isBadRequest(/trainingLabels: needs at least one row/),
  );
  assert.throws(
    () => classifierBaseline({ trainingLabels: [0, 2], labels: [0], numClasses: 2 }),
    isBadRequest(/trainingLabels: row 1 is 2/),
  );
  assert.throws(
    () => regressorBaseline({ trainingTargets: [1, NaN], targets: [1] }),
    isBadRequest(/trainingTargets: row 1 is NaN/),
  );
});
