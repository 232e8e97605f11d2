/**
 * The classifier head of every model whose last layer is linear (the linear models and the MLP),
 * in ONNX, so a served classifier looks the same whatever trained it.
 */
import { attr } from '../../onnx/attribute.ts';
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { TrainingObjective } from './objective.ts';

/**
 * Turns `logits` into the model's float output: nothing for regression (the logits are the
 * output), `(1 − p, p)` with `p = sigmoid(logits)` for binary, softmax for multiclass. Shared by
 * every model with a linear last layer, so a served classifier looks the same whatever trained it.
 * `prefix` keeps the head's value names apart from the rest of the graph.
 */
export function addOutputHead(
  builder: GraphBuilder,
  head: { objective: TrainingObjective; logits: string; outputName: string; prefix?: string },
): void {
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
}
