/**
 * Exports a trained MLP as an ONNX graph: one `Gemm` per layer with `Relu` or `Tanh` between
 * them, then the shared head (`common/output-head.ts`): nothing (regression, output
 * `predictions`), or `label` and `probabilities` (`[N, 2]` for binary, `[N, K]` for multiclass),
 * so a served MLP looks exactly like a served linear model or tree ensemble. Outputs match
 * {@link predictMlp} row for row. {@link addMlpGraph} appends the same nodes to a graph that
 * already computes the features.
 */
import { GraphBuilder, type ValueSpec } from '../../onnx/graph-builder.ts';
import {
  addOutputHead,
  defaultOutputName,
  LABEL_OUTPUT,
  PREDICTIONS_OUTPUT,
  PROBABILITIES_OUTPUT,
} from '../common/output-head.ts';
import { checkMlpModel, type MlpModel } from './mlp-model.ts';

/** Options for {@link exportMlpOnnx}. */
export interface ExportMlpOnnxOptions {
  /** Name of the `[batch, numFeatures]` float input. @default 'features' */
  readonly inputName?: string;
  /** Name of the float output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Graph name. @default 'mlp_<objective>' */
  readonly graphName?: string;
}

/** Options for {@link addMlpGraph}. */
export interface AddMlpGraphOptions {
  /** Name of a FLOAT `[batch, numFeatures]` value already defined in the builder. */
  readonly input: string;
  /** Name of the float output. @default 'predictions' (regression) or 'probabilities' (classification) */
  readonly outputName?: string;
  /** Symbolic batch dimension written in the returned output shape. @default 'batch' */
  readonly batchDim?: string;
}

/**
 * The names {@link addMlpGraph} defines for `model` with the default output name: every internal
 * value starts with `mlp.`, plus `predictions`, or `label` and `probabilities`. A graph the MLP is
 * appended to must not define any of them.
 */
export function mlpValueNames(model: MlpModel): string[] {
  const names = model.layers.flatMap((_, index) => {
    const prefix = `mlp.layer${index}`;
    const hidden = index < model.layers.length - 1;
    return [
      `${prefix}.weight`,
      `${prefix}.bias`,
      ...(hidden ? [`${prefix}.linear`, `${prefix}.${model.activation}`] : []),
    ];
  });
  if (model.objective === 'regression') return [...names, PREDICTIONS_OUTPUT];
  const head = model.objective === 'binary' ? ['mlp.one', 'mlp.p_positive', 'mlp.p_negative'] : [];
  return [...names, 'mlp.logits', ...head, LABEL_OUTPUT, PROBABILITIES_OUTPUT];
}

/**
 * Appends the model to `builder`, reading `options.input`. Defines the values listed by
 * {@link mlpValueNames} (all `mlp.*` except the output). Declares no graph output: the caller adds
 * the returned ones it wants.
 *
 * @returns the model's outputs (`predictions`, or `label` and `probabilities`), ready for `builder.addOutput`.
 * @throws StratumError BAD_REQUEST when the model's layers do not chain.
 * @example
 * ```ts
 * const g = new GraphBuilder({ name: 'pipeline', opsets: FEATURE_OPSETS })
 * const features = addFeatureGraph(g, fitted)
 * for (const output of addMlpGraph(g, model, { input: features })) g.addOutput(output)
 * ```
 */
export function addMlpGraph(builder: GraphBuilder, model: MlpModel, options: AddMlpGraphOptions): ValueSpec[] {
  checkMlpModel(model);
  const { objective, layers, activation, numOutputs: k } = model;
  const outputName = options.outputName ?? defaultOutputName(objective);
  const logits = objective === 'regression' ? outputName : 'mlp.logits';
  let current = options.input;
  for (const [index, layer] of layers.entries()) {
    const prefix = `mlp.layer${index}`;
    const hidden = index < layers.length - 1;
    const weights = builder.addInitializer({
      name: `${prefix}.weight`,
      dims: [layer.inputSize, layer.outputSize],
      data: layer.weights,
    });
    const bias = builder.addInitializer({ name: `${prefix}.bias`, dims: [layer.outputSize], data: layer.bias });
    const linear = builder.addNode({
      op: 'Gemm',
      inputs: [current, weights, bias],
      outputs: [hidden ? `${prefix}.linear` : logits],
    });
    current = hidden
      ? builder.addNode({
          op: activation === 'relu' ? 'Relu' : 'Tanh',
          inputs: [linear],
          outputs: [`${prefix}.${activation}`],
        })
      : linear;
  }
  const batchDim = options.batchDim ?? 'batch';
  return addOutputHead(builder, { objective, logits, outputName, numOutputs: k, prefix: 'mlp.', batchDim });
}

/**
 * Returns the bytes of an `.onnx` file computing the model; the same model gives the same bytes.
 *
 * @throws StratumError BAD_REQUEST when the model's layers do not chain.
 * @example
 * ```ts
 * const bytes = exportMlpOnnx(model, { inputName: 'x' })
 * const session = await ort.InferenceSession.create(bytes)
 * ```
 */
export function exportMlpOnnx(model: MlpModel, options: ExportMlpOnnxOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'features';
  const graph = new GraphBuilder({
    name: options.graphName ?? `mlp_${model.objective}`,
    metadata: {
      'stratum.objective': model.objective,
      'stratum.mlp.layers': model.layers.map((layer) => layer.outputSize).join(','),
      'stratum.mlp.activation': model.activation,
    },
  });
  graph.addInput({ name: inputName, type: 'FLOAT', shape: ['batch', model.numFeatures] });
  const outputs = addMlpGraph(graph, model, {
    input: inputName,
    ...(options.outputName !== undefined && { outputName: options.outputName }),
  });
  for (const output of outputs) graph.addOutput(output);
  return graph.toBytes();
}
