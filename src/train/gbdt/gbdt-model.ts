/**
 * The trained gradient-boosted tree ensemble as plain JSON-friendly data: what the trainer
 * returns, what the TypeScript predictor reads and what the ONNX exporter writes out.
 */
import type { TrainingObjective } from '../common/objective.ts';

/** The loss a model was trained for. */
export type GbdtObjective = TrainingObjective;

/**
 * One binary decision tree in parallel arrays; node 0 is the root and a node's children always
 * have larger ids, so the ids can be written as ONNX `nodes_nodeids` unchanged.
 * A row goes to `left` when `x[feature] <= threshold` (float32 comparison), else to `right`;
 * NaN therefore goes right, both here and in onnxruntime's `BRANCH_LEQ`.
 */
export interface GbdtTree {
  /** Split feature per node; `-1` for a leaf. */
  readonly feature: number[];
  /** Split threshold per node (a float32 value); `0` for a leaf. */
  readonly threshold: number[];
  /** Left (`<=`) child id per node; `-1` for a leaf. */
  readonly left: number[];
  /** Right (`>`) child id per node; `-1` for a leaf. */
  readonly right: number[];
  /** Leaf output per node (a float32 value, learning rate already applied); `0` for a branch. */
  readonly value: number[];
  /**
   * Hessian sum of the training rows that reached each node (XGBoost's "cover"; the row count for
   * squared error): what exact TreeSHAP weighs the two children of an unknown feature by. Absent
   * in models trained before explanations existed.
   */
  readonly cover?: number[];
}

/** A trained ensemble. */
export interface GbdtModel {
  /** The training objective. */
  readonly objective: GbdtObjective;
  /** Number of input features each row has. */
  readonly numFeatures: number;
  /** Number of classes: 2 for binary, K for multiclass, 1 for regression. */
  readonly numClasses: number;
  /**
   * Raw score every prediction starts from, one per output (1 for regression and binary, K for
   * multiclass); float32 values.
   */
  readonly baseScore: number[];
  /** Trees per boosting round: one per output (1, or K for multiclass). */
  readonly trees: GbdtTree[][];
  /** Rounds trained before stopping, including rounds dropped by early stopping. */
  readonly roundsTrained: number;
  /** Validation loss per round when a validation set was given, else empty. */
  readonly validationLoss: number[];
}
