/**
 * Regression metrics on a held-out split: RMSE, MAE and the coefficient of determination R².
 */
import { checkFinite, checkSameLength } from './check-metric-inputs.ts';

/** Root mean squared error. */
export function rmse(targets: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const n = check(targets, predictions);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ((targets[i] as number) - (predictions[i] as number)) ** 2;
  return Math.sqrt(sum / n);
}

/** Mean absolute error. */
export function mae(targets: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const n = check(targets, predictions);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs((targets[i] as number) - (predictions[i] as number));
  return sum / n;
}

/**
 * Coefficient of determination `1 − SS_res / SS_tot`: 1 for a perfect fit, 0 for predicting the
 * mean, negative for worse. When the targets are constant (`SS_tot = 0`) it is 1 for a perfect fit
 * and 0 otherwise, so the result is always finite and JSON-serialisable (scikit-learn's rule).
 */
export function r2(targets: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const n = check(targets, predictions);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += targets[i] as number;
  mean /= n;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const target = targets[i] as number;
    residual += (target - (predictions[i] as number)) ** 2;
    total += (target - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

function check(targets: ArrayLike<number>, predictions: ArrayLike<number>): number {
  const n = checkSameLength({ name: 'targets', values: targets }, { name: 'predictions', values: predictions });
  checkFinite({ name: 'targets', values: targets });
  checkFinite({ name: 'predictions', values: predictions });
  return n;
}
