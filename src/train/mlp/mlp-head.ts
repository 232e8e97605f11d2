/**
 * The objective's head on the last layer's logits: identity + squared error (regression),
 * sigmoid + log-loss (binary) or softmax + cross-entropy (multiclass), the same losses and output
 * layouts as the linear models (binary outputs `[1 − p, p]`).
 */
import { sigmoid } from '../common/sigmoid.ts';
import type { MlpObjective } from './mlp-model.ts';

/** Options for {@link headLoss}. */
export interface HeadLossOptions {
  readonly objective: MlpObjective;
  /** Row-major `rows×width` logits. */
  readonly logits: Float32Array;
  /** One label per row: target, 0/1 or class index. */
  readonly labels: ArrayLike<number>;
  readonly rows: number;
  /** Logits per row (1, or the number of classes). */
  readonly width: number;
  /** When given, overwritten with dLoss/dlogits divided by `rows` (the gradient of the batch's mean loss). */
  readonly delta?: Float32Array;
}

/** Returns the summed loss of the rows (MSE, log-loss or cross-entropy terms). */
export function headLoss(options: HeadLossOptions): number {
  const { objective, logits, labels, rows, width, delta } = options;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r] as number;
    const base = r * width;
    if (objective === 'regression') {
      const residual = (logits[r] as number) - label;
      total += residual * residual;
      if (delta !== undefined) delta[r] = (2 * residual) / rows;
    } else if (objective === 'binary') {
      const z = logits[r] as number;
      // log(1 + e^z) − y·z, written so large |z| neither overflows nor loses precision.
      total += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - label * z;
      if (delta !== undefined) delta[r] = (sigmoid(z) - label) / rows;
    } else {
      let max = -Infinity;
      for (let c = 0; c < width; c++) max = Math.max(max, logits[base + c] as number);
      let sum = 0;
      for (let c = 0; c < width; c++) sum += Math.exp((logits[base + c] as number) - max);
      total += Math.log(sum) + max - (logits[base + label] as number);
      if (delta !== undefined) {
        for (let c = 0; c < width; c++) {
          const p = Math.exp((logits[base + c] as number) - max) / sum;
          delta[base + c] = (p - (c === label ? 1 : 0)) / rows;
        }
      }
    }
  }
  return total;
}

/** Writes the head's outputs for `rows` logits into `out` at `offset`: values, `[1 − p, p]` or softmax. */
export function headOutputs(options: {
  objective: MlpObjective;
  logits: Float32Array;
  rows: number;
  width: number;
  out: Float32Array;
  offset: number;
}): void {
  const { objective, logits, rows, width, out, offset } = options;
  if (objective === 'regression') {
    out.set(logits.subarray(0, rows), offset);
    return;
  }
  if (objective === 'binary') {
    for (let r = 0; r < rows; r++) {
      const p = sigmoid(logits[r] as number);
      out[offset + 2 * r] = 1 - p;
      out[offset + 2 * r + 1] = p;
    }
    return;
  }
  const z = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, logits[r * width + c] as number);
    let sum = 0;
    for (let c = 0; c < width; c++) {
      z[c] = Math.exp((logits[r * width + c] as number) - max);
      sum += z[c] as number;
    }
    for (let c = 0; c < width; c++) out[offset + r * width + c] = (z[c] as number) / sum;
  }
}
