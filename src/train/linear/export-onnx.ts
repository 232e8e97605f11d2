/**
 * Exports a trained linear model as an ONNX graph: `Gemm(x, W, b)` followed by nothing
 * (regression), `Sigmoid` and `Concat(1 − p, p)` (binary, so the output is `[N, 2]` like every
 * classifier's) or `Softmax` (multiclass). Outputs match {@link predictLinear} row for row.
 * {@link addLinearGraph} appends the same nodes to a graph that already computes the features.
 */
import { attr } from '../../onnx/attribute.ts';
import { GraphBuilder, type ValueSpec } from '../../onnx/graph-builder.ts';
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

/** Options for {@link addLinearGraph}. */
export interface AddLinearGraphOptions {
  /** Name of a FLOAT `[batch, numFeatures]` value already defined in the builder. */
  readonly input: string;
  /** Name of the output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Symbolic batch dimension written in the returned output shape. @default 'batch' */
  readonly batchDim?: string;
}

/**
 * Appends the model to `builder`, reading `options.input`. Defines the values `linear.weight`,
 * `linear.bias`, `logits`, and for binary models `one`, `p_positive` and `p_negative`, so these
 * names must be free. Declares no graph output: the caller adds the returned ones it wants.
 *
 * @returns the model's outputs (one: the values or the probabilities), ready for `builder.addOutput`.
 * @example
 * ```ts
 * const g = new GraphBuilder({ name: 'pipeline', opsets: FEATURE_OPSETS })
 * const features = addFeatureGraph(g, fitted)
 * for (const output of addLinearGraph(g, model, { input: features })) g.addOutput(output)
 * ```
 */
export function addLinearGraph(builder: GraphBuilder, model: LinearModel, options: AddLinearGraphOptions): ValueSpec[] {
  const { objective, numFeatures: f, numOutputs: k } = model;
  const { input } = options;
  const outputName = options.outputName ?? (objective === 'regression' ? 'predictions' : 'probabilities');
  const weights = builder.addInitializer({ name: 'linear.weight', dims: [f, k], data: model.weights });
  const bias = builder.addInitializer({ name: 'linear.bias', dims: [k], data: model.bias });
  const logits = objective === 'regression' ? outputName : 'logits';
  builder.addNode({ op: 'Gemm', inputs: [input, weights, bias], outputs: [logits] });
  addOutputHead(builder, { objective, logits, outputName });
  const width = objective === 'binary' ? 2 : k;
  return [{ name: outputName, type: 'FLOAT', shape: [options.batchDim ?? 'batch', width] }];
}

/**
 * Turns `logits` into the model's float output: nothing for regression (the logits are the
 * output), `(1 − p, p)` with `p = sigmoid(logits)` for binary, softmax for multiclass. Shared by
 * every model with a linear last layer, so a served classifier looks the same whatever trained it.
 * `prefix` keeps the head's value names apart from the rest of the graph.
 */
export function addOutputHead(
  builder: GraphBuilder,
  head: { objective: LinearModel['objective']; logits: string; outputName: string; prefix?: string },
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
  const inputName = options.inputName ?? 'features';
  const graph = new GraphBuilder({
    name: options.graphName ?? `linear_${model.objective}`,
    metadata: { 'stratum.objective': model.objective },
  });
  graph.addInput({ name: inputName, type: 'FLOAT', shape: ['batch', model.numFeatures] });
  const outputs = addLinearGraph(graph, model, {
    input: inputName,
    ...(options.outputName !== undefined && { outputName: options.outputName }),
  });
  for (const output of outputs) graph.addOutput(output);
  return graph.toBytes();
}
