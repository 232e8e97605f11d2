/**
 * Exports a trained linear model as an ONNX graph: `Gemm(x, W, b)` followed by nothing
 * (regression), or the shared classifier head (`common/output-head.ts`: `label` and
 * `probabilities`, `[N, 2]` for binary, like every classifier's). Outputs match
 * {@link predictLinear} row for row. {@link addLinearGraph} appends the same nodes to a graph
 * that already computes the features.
 */
import { GraphBuilder, type ValueSpec } from '../../onnx/graph-builder.ts';
import { addOutputHead, defaultOutputName } from '../common/output-head.ts';
import type { LinearModel } from './linear-model.ts';

/** Options for {@link exportLinearOnnx}. */
export interface ExportLinearOnnxOptions {
  /** Name of the `[batch, numFeatures]` float input. @default 'features' */
  readonly inputName?: string;
  /** Name of the float output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Graph name. @default 'linear_<objective>' */
  readonly graphName?: string;
}

/** Options for {@link addLinearGraph}. */
export interface AddLinearGraphOptions {
  /** Name of a FLOAT `[batch, numFeatures]` value already defined in the builder. */
  readonly input: string;
  /** Name of the float output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Symbolic batch dimension written in the returned output shape. @default 'batch' */
  readonly batchDim?: string;
}

/**
 * Appends the model to `builder`, reading `options.input`. Defines the values `linear.weight`,
 * `linear.bias`, `logits`, for classifiers `label`, and for binary models `one`, `p_positive` and
 * `p_negative`, so these names must be free. Declares no graph output: the caller adds the
 * returned ones it wants.
 *
 * @returns the model's outputs (`predictions`, or `label` and `probabilities`), ready for `builder.addOutput`.
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
  const outputName = options.outputName ?? defaultOutputName(objective);
  const weights = builder.addInitializer({ name: 'linear.weight', dims: [f, k], data: model.weights });
  const bias = builder.addInitializer({ name: 'linear.bias', dims: [k], data: model.bias });
  const logits = objective === 'regression' ? outputName : 'logits';
  builder.addNode({ op: 'Gemm', inputs: [input, weights, bias], outputs: [logits] });
  const batchDim = options.batchDim ?? 'batch';
  return addOutputHead(builder, { objective, logits, outputName, numOutputs: k, batchDim });
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
