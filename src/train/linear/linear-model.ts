/**
 * The trained linear model as data: what `trainLinear` returns and what prediction and ONNX export
 * read. Weights are stored `[numFeatures, numOutputs]` row-major, the layout `Gemm` takes as `B`.
 */
import type { TrainingObjective } from '../common/objective.ts';

/** What the model predicts. */
export type LinearObjective = TrainingObjective;

/** A trained linear, logistic or softmax regression model. */
export interface LinearModel {
  /** `'regression'` (identity), `'binary'` (sigmoid) or `'multiclass'` (softmax). */
  readonly objective: LinearObjective;
  /** Input width F. */
  readonly numFeatures: number;
  /** Output width K: 1 for regression and binary, the number of classes for multiclass. */
  readonly numOutputs: number;
  /** Weights, row-major `F×K`. */
  readonly weights: Float32Array;
  /** Bias, length K. */
  readonly bias: Float32Array;
}
