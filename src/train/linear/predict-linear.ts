/**
 * Prediction with a trained linear model in TypeScript, producing exactly what the exported ONNX
 * graph produces: values `[N]` (regression), probabilities `[N, 2]` (binary: `1 − p, p`) or
 * probabilities `[N, K]` (multiclass softmax).
 */
import { sigmoid } from '../common/sigmoid.ts';
import type { LinearModel } from './linear-model.ts';
import { checkFeatures } from '../common/check-training-inputs.ts';

/** Options for {@link predictLinear}. */
export interface PredictLinearOptions {
  /** Row-major `N×numFeatures`, finite values. */
  readonly features: Float32Array;
}

/** Output of {@link predictLinear}. */
export interface LinearPrediction {
  /** Row-major values: `N×1` (regression), `N×2` (binary) or `N×K` (multiclass). */
  readonly values: Float32Array;
  /** `[N, width]`. */
  readonly shape: readonly [number, number];
}

/**
 * Predicts values or class probabilities for each row.
 *
 * @example
 * ```ts
 * const { values } = predictLinear(model, { features: new Float32Array([0.5, 1.5]) })
 * ```
 */
export function predictLinear(model: LinearModel, options: PredictLinearOptions): LinearPrediction {
  const { numFeatures: f, numOutputs: k, weights, bias, objective } = model;
  const rows = checkFeatures({ name: 'features', features: options.features, numFeatures: f });
  const width = objective === 'binary' ? 2 : k;
  const values = new Float32Array(rows * width);
  const z = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++) z[c] = bias[c] as number;
    for (let j = 0; j < f; j++) {
      const x = options.features[r * f + j] as number;
      for (let c = 0; c < k; c++) z[c] = (z[c] as number) + x * (weights[j * k + c] as number);
    }
    if (objective === 'regression') {
      values[r] = z[0] as number;
    } else if (objective === 'binary') {
      const p = sigmoid(z[0] as number);
      values[2 * r] = 1 - p;
      values[2 * r + 1] = p;
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, z[c] as number);
      let sum = 0;
      for (let c = 0; c < k; c++) {
        z[c] = Math.exp((z[c] as number) - max);
        sum += z[c] as number;
      }
      for (let c = 0; c < k; c++) values[r * k + c] = (z[c] as number) / sum;
    }
  }
  return { values, shape: [rows, width] };
}
