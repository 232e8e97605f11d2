/**
 * The classifier head of every model whose last layer is linear (the linear models and the MLP),
 * in ONNX, so a served classifier looks the same whatever trained it.
 */
import { attr } from '../../onnx/attribute.ts';
import type { GraphBuilder, ValueSpec } from '../../onnx/graph-builder.ts';
import type { TrainingObjective } from './objective.ts';

/** The output's name unless the caller names it: `predictions` (regression) or `probabilities`. */
export function defaultOutputName(objective: TrainingObjective): string {
  return objective === 'regression' ? 'predictions' : 'probabilities';
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
  /** Symbolic batch dimension of the returned output. @default 'batch' */
  readonly batchDim?: string;
}

/**
 * Turns `logits` into the model's float output: nothing for regression (the logits are the
 * output), `(1 − p, p)` with `p = sigmoid(logits)` for binary, softmax for multiclass. Shared by
 * every model with a linear last layer, so a served classifier looks the same whatever trained it.
 *
 * @returns the output (`[batch, 2]` for binary, else `[batch, numOutputs]`), ready for `builder.addOutput`.
 */
export function addOutputHead(builder: GraphBuilder, head: OutputHead): ValueSpec[] {
  const { objective, logits, outputName } = head;
  const prefix = head.prefix ?? '';
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
  } else if (objective === 'multiclass') {
    builder.addNode({ op: 'Softmax', inputs: [logits], outputs: [outputName], attributes: { axis: attr.int(1) } });
  }
  const width = objective === 'binary' ? 2 : head.numOutputs;
  return [{ name: outputName, type: 'FLOAT', shape: [head.batchDim ?? 'batch', width] }];
}
