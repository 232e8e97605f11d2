/**
 * Exports a trained linear model as an ONNX graph: `Gemm(x, W, b)` followed by nothing
 * (regression), `Sigmoid` and `Concat(1 − p, p)` (binary, so the output is `[N, 2]` like every
 * classifier's) or `Softmax` (multiclass). Outputs match {@link predictLinear} row for row.
 */
import { attr } from '../../onnx/attribute.ts';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import type { LinearModel } from './linear-model.ts';

/** Options for {@link exportLinearOnnx}. */
export interface ExportLinearOnnxOptions {
  /** Name of the `[batch, numFeatures]` float input. @default 'features' */
  readonly inputName?: string;
  /** Name of the output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Graph name. @default 'linear_<objective>' */
  readonly graphName?: string;
}

/**
 * Returns the bytes of an `.onnx` file computing the model; the same model gives the same bytes.
 *
 * @example
 * ```ts
 * const bytes = exportLinearOnnx(model, { inputName: 'x' })
 * const session = await ort.InferenceSession.create(bytes)
 * ```
 */
export function exportLinearOnnx(model: LinearModel, options: ExportLinearOnnxOptions = {}): Uint8Array {
  const { objective, numFeatures: f, numOutputs: k } = model;
  const inputName = options.inputName ?? 'features';
  const outputName = options.outputName ?? (objective === 'regression' ? 'predictions' : 'probabilities');
  const graph = new GraphBuilder({
    name: options.graphName ?? `linear_${objective}`,
    metadata: { 'stratum.objective': objective },
  });
  graph.addInput({ name: inputName, type: 'FLOAT', shape: ['batch', f] });
  const weights = graph.addInitializer({ name: 'linear.weight', dims: [f, k], data: model.weights });
  const bias = graph.addInitializer({ name: 'linear.bias', dims: [k], data: model.bias });
  const logits = objective === 'regression' ? outputName : 'logits';
  graph.addNode({ op: 'Gemm', inputs: [inputName, weights, bias], outputs: [logits] });
  if (objective === 'binary') {
    const positive = graph.addNode({ op: 'Sigmoid', inputs: [logits], outputs: ['p_positive'] });
    const one = graph.addInitializer({ name: 'one', dims: [1], data: new Float32Array([1]) });
    const negative = graph.addNode({ op: 'Sub', inputs: [one, positive], outputs: ['p_negative'] });
    graph.addNode({
      op: 'Concat',
      inputs: [negative, positive],
      outputs: [outputName],
      attributes: { axis: attr.int(1) },
    });
  } else if (objective === 'multiclass') {
    graph.addNode({ op: 'Softmax', inputs: [logits], outputs: [outputName], attributes: { axis: attr.int(1) } });
  }
  graph.addOutput({ name: outputName, type: 'FLOAT', shape: ['batch', objective === 'binary' ? 2 : k] });
  return graph.toBytes();
}
