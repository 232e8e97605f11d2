/**
 * Exact SHAP values of a linear model with independent features, as `shap.LinearExplainer` with
 * `feature_perturbation="interventional"` computes them: φ_ik = w_ik · (x_i − E[x_i]), base_k =
 * b_k + Σ_i w_ik · E[x_i]. For classifiers this explains the margin (the logits before the
 * sigmoid or softmax), which is linear; the probabilities are not.
 */

/** A linear model's margin `x · W + b` and the training means of its inputs. */
export interface ExplainLinear {
  /** Row-major `features × outputs`, as the exported `Gemm` initializer holds it. */
  readonly weights: Float32Array | Float64Array;
  readonly bias: readonly number[];
  /** Training mean of each input feature (E[x_i]). */
  readonly means: readonly number[];
  readonly numFeatures: number;
  readonly numOutputs: number;
}

/**
 * Linear SHAP values of `rows` (row-major `rows × numFeatures`).
 *
 * @returns `values`, row-major `rows × outputs × features`, and `base` per output.
 * @example
 * ```ts
 * linearShap(model, Float32Array.of(1, 2)) // { values: [w0·(1 − m0), w1·(2 − m1)], base: [b + w·m] }
 * ```
 */
export function linearShap(model: ExplainLinear, rows: Float32Array): { values: Float64Array; base: number[] } {
  const { weights, bias, means, numFeatures, numOutputs } = model;
  const numRows = numFeatures === 0 ? 0 : rows.length / numFeatures;
  const values = new Float64Array(numRows * numOutputs * numFeatures);
  for (let r = 0; r < numRows; r++) {
    for (let i = 0; i < numFeatures; i++) {
      const centred = (rows[r * numFeatures + i] as number) - (means[i] as number);
      for (let k = 0; k < numOutputs; k++) {
        values[(r * numOutputs + k) * numFeatures + i] = (weights[i * numOutputs + k] as number) * centred;
      }
    }
  }
  const base = bias.map((b, k) => {
    let sum = b;
    for (let i = 0; i < numFeatures; i++) sum += (weights[i * numOutputs + k] as number) * (means[i] as number);
    return sum;
  });
  return { values, base };
}
