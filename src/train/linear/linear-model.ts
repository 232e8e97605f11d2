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

/** One epoch of training. */
export interface LinearHistoryEntry {
  /** 1-based epoch (L-BFGS: iteration). */
  readonly epoch: number;
  /** Mean training loss without the penalty: MSE, log-loss or cross-entropy. */
  readonly loss: number;
  /** Same loss on the validation split, when one was given. */
  readonly validationLoss?: number;
}
