/** Regression metrics against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { mae, r2, rmse } from '../../../src/train/metrics/regression-metrics.ts';

function close(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `expected ${expected}, got ${actual}`);
}

test('RMSE, MAE and R² on a small example', () => {
  // One error of 1 in four rows; mean target 2.5, SS_tot = 2.25 + .25 + .25 + 2.25 = 5, SS_res = 1.
  const targets = [1, 2, 3, 4];
  const predictions = [1, 2, 3, 5];
  close(rmse(targets, predictions), 0.5);
  close(mae(targets, predictions), 0.25);
  close(r2(targets, predictions), 0.8);
});

test('a constant predictor of the mean has R² = 0, a perfect one 1, a worse one < 0', () => {
  close(r2([1, 2, 3, 4], [2.5, 2.5, 2.5, 2.5]), 0);
  close(r2([1, 2, 3, 4], [1, 2, 3, 4]), 1);
  // SS_res = 9 + 1 + 1 + 9 = 20 → 1 - 20/5.
  close(r2([1, 2, 3, 4], [4, 3, 2, 1]), -3);
});

test('constant targets give a finite R²', () => {
  close(r2([2, 2, 2], [2, 2, 2]), 1);
  close(r2([2, 2, 2], [1, 2, 3]), 0);
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
