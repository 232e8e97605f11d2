/**
 * The outputs every trained model serves, in one place, so retraining with another algorithm never
 * changes a model's signature by accident: a classifier answers `label` (INT64 `[batch]`, the index
 * of the most probable class) and `probabilities` (FLOAT `[batch, K]`, K = 2 for binary); a
 * regressor answers `predictions` (FLOAT `[batch, 1]`). The class names behind the indices travel in
 * the model's metadata (`stratum.classes`, see `onnx/model-metadata.ts`). The linear models and the MLP build the head
 * here from their logits; the tree ensemble's classifier node yields the same two outputs.
 */
import { attr } from '../../onnx/attribute.ts';
import type { GraphBuilder, ValueSpec } from '../../onnx/graph-builder.ts';
import type { TrainingObjective } from './objective.ts';

/** The classifier outputs, by name. */
export const LABEL_OUTPUT = 'label';
export const PROBABILITIES_OUTPUT = 'probabilities';
/** The regression output. */
export const PREDICTIONS_OUTPUT = 'predictions';

/** The output's name unless the caller names it: `predictions` (regression) or `probabilities`. */
export function defaultOutputName(objective: TrainingObjective): string {
  return objective === 'regression' ? PREDICTIONS_OUTPUT : PROBABILITIES_OUTPUT;
}

/**
 * The outputs a model of `objective` declares: `[label, probabilities]` for classifiers, `[predictions]`
 * for regression. `numClasses` may be -1 when it is not known yet (a multiclass label before the
 * data is read): the dimension is then left symbolic.
 */
export function modelOutputSpecs(options: {
  objective: TrainingObjective;
  numClasses: number;
  batchDim: string;
  /** Name of the float output. @default {@link defaultOutputName} */
  outputName?: string;
}): ValueSpec[] {
  const { objective, batchDim } = options;
  const outputName = options.outputName ?? defaultOutputName(objective);
  if (objective === 'regression') return [{ name: outputName, type: 'FLOAT', shape: [batchDim, 1] }];
  const width = objective === 'binary' ? 2 : options.numClasses;
  return [
    { name: LABEL_OUTPUT, type: 'INT64', shape: [batchDim] },
    { name: outputName, type: 'FLOAT', shape: [batchDim, width < 0 ? 'classes' : width] },
  ];
}

/** The head of a graph: what to read and what to write. */
export interface OutputHead {
  readonly objective: TrainingObjective;
  /** The `[batch, numOutputs]` logits (for regression, already named `outputName`). */
  readonly logits: string;
  readonly outputName: string;
  /** Width of the logits: 1, or the number of classes. */
  readonly numOutputs: number;
  /** Keeps the head's value names apart from the rest of the graph. @default '' */
  readonly prefix?: string;
  /** Symbolic batch dimension of the returned outputs. @default 'batch' */
  readonly batchDim?: string;
}

/**
 * Turns `logits` into the model's outputs: nothing for regression (the logits are the output);
 * for classifiers the probabilities — `(1 − p, p)` with `p = sigmoid(logits)` for binary, softmax
 * for multiclass — and `label = ArgMax(probabilities)` (the first class on a tie, as a binary
 * tree ensemble decides `p > 0.5`).
 *
 * @returns the outputs ({@link modelOutputSpecs}), ready for `builder.addOutput`.
 */
export function addOutputHead(builder: GraphBuilder, head: OutputHead): ValueSpec[] {
  const { objective, logits, outputName } = head;
  const prefix = head.prefix ?? '';
  const batchDim = head.batchDim ?? 'batch';
  const outputs = modelOutputSpecs({ objective, numClasses: head.numOutputs, batchDim, outputName });
  if (objective === 'regression') return outputs;
  if (objective === 'binary') {
    const positive = builder.addNode({ op: 'Sigmoid', inputs: [logits], outputs: [`${prefix}p_positive`] });
    const one = builder.addInitializer({ name: `${prefix}one`, dims: [1], data: new Float32Array([1]) });
    const negative = builder.addNode({ op: 'Sub', inputs: [one, positive], outputs: [`${prefix}p_negative`] });
    builder.addNode({
      op: 'Concat',
      inputs: [negative, positive],
      outputs: [outputName],
      attributes: { axis: attr.int(1) },
    });
  } else {
    builder.addNode({ op: 'Softmax', inputs: [logits], outputs: [outputName], attributes: { axis: attr.int(1) } });
  }
  builder.addNode({
    op: 'ArgMax',
    inputs: [outputName],
    outputs: [LABEL_OUTPUT],
    attributes: { axis: attr.int(1), keepdims: attr.int(0) },
  });
  return outputs;
}
