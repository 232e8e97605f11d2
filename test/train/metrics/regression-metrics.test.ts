/** Regression metrics against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { mae, r2, rmse } from '../../../src/train/metrics/regression-metrics.ts';
import { assertClose } from '../../helpers/assert-close.ts';

// Hand-computed values: only float rounding may differ.
const TOLERANCE = { atol: 1e-12 };

test('RMSE, MAE and R² on a small example', () => {
  // One error of 1 in four rows; mean target 2.5, SS_tot = 2.25 + .25 + .25 + 2.25 = 5, SS_res = 1.
  const targets = [1, 2, 3, 4];
  const predictions = [1, 2, 3, 5];
  assertClose(rmse(targets, predictions), 0.5, TOLERANCE);
  assertClose(mae(targets, predictions), 0.25, TOLERANCE);
  assertClose(r2(targets, predictions), 0.8, TOLERANCE);
});

test('a constant predictor of the mean has R² = 0, a perfect one 1, a worse one < 0', () => {
  assertClose(r2([1, 2, 3, 4], [2.5, 2.5, 2.5, 2.5]), 0, TOLERANCE);
  assertClose(r2([1, 2, 3, 4], [1, 2, 3, 4]), 1, TOLERANCE);
  // SS_res = 9 + 1 + 1 + 9 = 20 → 1 - 20/5.
  assertClose(r2([1, 2, 3, 4], [4, 3, 2, 1]), -3, TOLERANCE);
});

test('constant targets give a finite R²', () => {
  assertClose(r2([2, 2, 2], [2, 2, 2]), 1, TOLERANCE);
  assertClose(r2([2, 2, 2], [1, 2, 3]), 0, TOLERANCE);
});

test('mismatched or non-finite inputs are BAD_REQUEST', () => {
  assert.throws(
    () => rmse([1, 2], [1]),
    (e) => e instanceof StratumError && e.code === 'BAD_REQUEST',
  );
  assert.throws(
    () => mae([1, Infinity], [1, 2]),
    (e) => e instanceof StratumError && /targets: row 1 is Infinity/.test(e.message),
  );
});
