/**
 * A held-out metric beside the baseline's value of it, as `stratum train` and the demo print them:
 * `accuracy 0.815 (baseline 0.802)`. A run records the baseline's values as `baseline.<metric>`.
 */
import { BASELINE_PREFIX } from '../train/run/run-training.ts';

/**
 * `metrics[key]` to `digits` decimals, followed by ` (baseline …)` when the run recorded the
 * baseline's value of it; whole numbers (steps, rows) as they are.
 *
 * @example
 * ```ts
 * metricWithBaseline({ metrics: { accuracy: 0.815, 'baseline.accuracy': 0.802 }, key: 'accuracy', digits: 3 })
 * // '0.815 (baseline 0.802)'
 * ```
 */
export function metricWithBaseline(args: {
  metrics: Readonly<Record<string, number>>;
  key: string;
  digits: number;
}): string {
  const { metrics, key, digits } = args;
  const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(digits));
  const value = metrics[key];
  if (value === undefined) return '';
  const baseline = metrics[`${BASELINE_PREFIX}${key}`];
  return baseline === undefined ? format(value) : `${format(value)} (baseline ${format(baseline)})`;
}

/** The metric names of a run, without the baseline's copies. */
export function modelMetricKeys(metrics: Readonly<Record<string, number>>): string[] {
  return Object.keys(metrics).filter((key) => !key.startsWith(BASELINE_PREFIX));
}

/** What "baseline" means for the run's task, or `undefined` when it recorded none. */
export function baselineMeaning(metrics: Readonly<Record<string, number>>): string | undefined {
  if (`${BASELINE_PREFIX}accuracy` in metrics) return "always answering the training rows' most frequent class";
  if (`${BASELINE_PREFIX}rmse` in metrics) return "always answering the training rows' mean";
  return undefined;
}
