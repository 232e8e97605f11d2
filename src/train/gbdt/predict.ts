/**
 * Reference prediction for a {@link GbdtModel} in TypeScript, written to match onnxruntime's
 * TreeEnsemble kernels: `x <= threshold` goes left (NaN goes right), leaf values are summed
 * in float32 in tree order and the base score is added last.
 */
import { StratumError } from '../../errors/index.ts';
import type { GbdtModel, GbdtTree } from './gbdt-model.ts';

/** Predictions for a batch of rows. */
export interface GbdtPrediction {
  /** Raw scores (margins), row-major `N × outputs` (1 output, or K for multiclass). */
  readonly scores: Float32Array;
  /**
   * What the exported ONNX model returns as its float output: the regression value
   * (`N × 1`), or class probabilities (`N × 2` for binary, `N × K` for multiclass).
   */
  readonly outputs: Float32Array;
  /** Predicted class per row (argmax of the probabilities); absent for regression. */
  readonly labels?: Int32Array;
}

/**
 * Predicts a row-major `N × model.numFeatures` matrix.
 *
 * @example
 * ```ts
 * const { outputs } = predictGbdt(model, features) // probabilities N × K for classifiers
 * ```
 */
export function predictGbdt(model: GbdtModel, features: Float32Array): GbdtPrediction {
  const { numFeatures, objective, baseScore } = model;
  if (features.length % numFeatures !== 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `features: length ${features.length} is not a multiple of the model's numFeatures (${numFeatures})`,
    );
  }
  const numRows = features.length / numFeatures;
  const numOutputs = baseScore.length;
  const scores = new Float32Array(numRows * numOutputs);
  for (let i = 0; i < numRows; i++) {
    for (let k = 0; k < numOutputs; k++) {
      let sum = 0;
      for (const round of model.trees) {
        sum = Math.fround(sum + leafValue({ tree: round[k] as GbdtTree, features, offset: i * numFeatures }));
      }
      scores[i * numOutputs + k] = sum + (baseScore[k] as number);
    }
  }
  if (objective === 'regression') return { scores, outputs: scores.slice() };
  const numClasses = model.numClasses;
  const outputs = new Float32Array(numRows * numClasses);
  const labels = new Int32Array(numRows);
  for (let i = 0; i < numRows; i++) {
    if (objective === 'binary') {
      const p = 1 / (1 + Math.exp(-(scores[i] as number)));
      outputs[2 * i] = 1 - p;
      outputs[2 * i + 1] = p;
      labels[i] = (scores[i] as number) > 0 ? 1 : 0;
    } else {
      const base = i * numClasses;
      let max = -Infinity;
      let best = 0;
      for (let k = 0; k < numClasses; k++) {
        const score = scores[base + k] as number;
        if (score > max) {
          max = score;
          best = k;
        }
      }
      let sum = 0;
      for (let k = 0; k < numClasses; k++) sum += Math.exp((scores[base + k] as number) - max);
      for (let k = 0; k < numClasses; k++) outputs[base + k] = Math.exp((scores[base + k] as number) - max) / sum;
      labels[i] = best;
    }
  }
  return { scores, outputs, labels };
}

function leafValue(args: { tree: GbdtTree; features: Float32Array; offset: number }): number {
  const { tree, features, offset } = args;
  let node = 0;
  let feature = tree.feature[0] as number;
  while (feature >= 0) {
    // `<=` is false for NaN, so NaN goes right, as BRANCH_LEQ does in onnxruntime.
    node = (
      (features[offset + feature] as number) <= (tree.threshold[node] as number) ? tree.left[node] : tree.right[node]
    ) as number;
    feature = tree.feature[node] as number;
  }
  return tree.value[node] as number;
}
