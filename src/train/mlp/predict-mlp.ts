/**
 * Prediction with a trained MLP in TypeScript, producing what the exported ONNX graph produces:
 * values `[N, 1]` (regression), probabilities `[N, 2]` (binary: `1 − p, p`) or `[N, K]`
 * (multiclass softmax). Dropout is a training-time operation and plays no part here.
 */
import { checkFeatures } from '../common/check-training-inputs.ts';
import { headOutputs } from './mlp-head.ts';
import { checkMlpModel, type MlpModel } from './mlp-model.ts';
import { createWorkspace, forward } from './mlp-network.ts';

/** Options for {@link predictMlp}. */
export interface PredictMlpOptions {
  /** Row-major `N×numFeatures`, finite values. */
  readonly features: Float32Array;
}

/** Output of {@link predictMlp}. */
export interface MlpPrediction {
  /** Row-major values: `N×1` (regression), `N×2` (binary) or `N×K` (multiclass). */
  readonly values: Float32Array;
  /** `[N, width]`. */
  readonly shape: readonly [number, number];
}

/** Rows per forward pass; bounds the scratch memory, not the input. */
const CHUNK = 1024;

/**
 * Predicts values or class probabilities for each row.
 *
 * @throws StratumError BAD_REQUEST for an inconsistent model or a non-finite feature (naming the row).
 * @example
 * ```ts
 * const { values } = predictMlp(model, { features: new Float32Array([0.5, 1.5]) })
 * ```
 */
export function predictMlp(model: MlpModel, options: PredictMlpOptions): MlpPrediction {
  checkMlpModel(model);
  const { numFeatures: f, numOutputs: k, objective, layers, activation } = model;
  const { features } = options;
  const rows = checkFeatures({ name: 'features', features, numFeatures: f });
  const width = objective === 'binary' ? 2 : k;
  const values = new Float32Array(rows * width);
  const workspace = createWorkspace({ layers, capacity: Math.min(CHUNK, rows), dropout: false });
  for (let start = 0; start < rows; start += CHUNK) {
    const count = Math.min(rows, start + CHUNK) - start;
    const input = features.subarray(start * f, (start + count) * f);
    const logits = forward({ layers, activation, input, rows: count, workspace });
    headOutputs({ objective, logits, rows: count, width: k, out: values, offset: start * width });
  }
  return { values, shape: [rows, width] };
}
