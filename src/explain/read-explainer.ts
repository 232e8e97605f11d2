/**
 * Reads what it takes to explain a model from its ONNX bytes: the tree-ensemble node (exact
 * TreeSHAP, with the covers from the model's `stratum.explain` metadata) or the linear layer
 * (`Gemm` on the `linear.weight` initializer, with the training means from the metadata), the
 * graph value holding the features that node reads, and the raw column each feature comes from.
 * Anything else — an MLP, a model from another exporter without covers — cannot be explained
 * exactly, and the error says which model and why.
 */
import { StratumError } from '../errors/index.ts';
import { CLASSES_METADATA_KEY } from '../onnx/model-metadata.ts';
import { decodeModel, type DecodedModel, type NodeProto } from '../onnx/onnx-proto.ts';
import { decodeTensor, encodeTensor } from '../onnx/onnx-proto.ts';
import { readTensorProto } from '../onnx/read-tensor-proto.ts';
import { EXPLAIN_METADATA_KEY, type ExplainMetadata, parseExplainMetadata } from './explain-metadata.ts';
import { linearShap } from './linear-shap.ts';
import { treeEnsembleFromOnnx } from './tree-ensemble.ts';
import { treeShap, treeShapCost } from './tree-shap.ts';

/** How the values are computed. */
export type ExplainMethod = 'tree_path_dependent' | 'linear_interventional';

/** What the SHAP values add up to: the regression value, or a classifier's log-odds / logits. */
export type ExplainedOutput = 'value' | 'log_odds' | 'logits';

/** A model ready to be explained. */
export interface Explainer {
  readonly method: ExplainMethod;
  readonly explained: ExplainedOutput;
  /** The graph value (a graph input, or an intermediate value) holding the features, FLOAT `[N, F]`. */
  readonly featureValue: string;
  /** Name of each of the F features. */
  readonly features: readonly string[];
  /** Raw input column of each feature (the feature itself when the graph computes none). */
  readonly columns: readonly string[];
  /** Name of each explained output: `predictions`, or the class whose margin it is. */
  readonly outputs: readonly string[];
  /**
   * Rough work per row (tree ensembles: Σ leaves · depth²; linear: features · outputs), so a caller
   * can bound its work (the model card explains as many rows as a budget of it affords).
   */
  readonly costPerRow: number;
  /**
   * SHAP values of a block of feature rows (row-major `rows × F`).
   * @returns `values`, row-major `rows × outputs × F`, and `base` per output.
   */
  explain(features: Float32Array): { values: Float64Array; base: readonly number[] };
}

/**
 * Reads the explainer of a model.
 *
 * @param target `model "iris" version 3`, for messages.
 * @throws StratumError UNSUPPORTED when the model cannot be explained exactly (naming `target`
 *   and the reason), INVALID_MODEL when its explanation metadata is malformed.
 * @example
 * ```ts
 * const explainer = readExplainer(bytes, 'model "iris" version 3')
 * const { values, base } = explainer.explain(features)
 * ```
 */
export function readExplainer(bytes: Uint8Array, target: string): Explainer {
  const model = decodeModel(bytes);
  const props = new Map(model.metadata_props.map((entry) => [entry.key ?? '', entry.value ?? '']));
  const text = props.get(EXPLAIN_METADATA_KEY);
  const metadata: ExplainMetadata = text === undefined ? {} : parseExplainMetadata(text);
  const classes = parseClasses(props.get(CLASSES_METADATA_KEY));
  const trees = model.graph.node.filter((node) => node.op_type?.startsWith('TreeEnsemble') === true);
  if (trees.length > 1) {
    throw new StratumError(
      'UNSUPPORTED',
      `${target} cannot be explained: it has ${trees.length} tree ensembles, explanations follow one`,
    );
  }
  const [tree] = trees;
  if (tree !== undefined) return treeExplainer({ model, node: tree, metadata, classes, target });
  const gemm = model.graph.node.find((node) => node.op_type === 'Gemm' && node.input[1] === LINEAR_WEIGHT);
  const layers = model.graph.node.filter((node) => node.op_type === 'Gemm' || node.op_type === 'MatMul').length;
  if (gemm !== undefined && layers === 1) return linearExplainer({ model, node: gemm, metadata, classes, target });
  throw new StratumError(
    'UNSUPPORTED',
    `${target} cannot be explained: exact SHAP values are computed for tree ensembles (TreeSHAP) and linear models; this model is neither (${layers > 1 ? 'several dense layers, an MLP' : 'no tree ensemble or linear layer'})`,
  );
}

/** The initializer name of a Stratum linear model's weights. */
const LINEAR_WEIGHT = 'linear.weight';

function treeExplainer(args: {
  model: DecodedModel;
  node: NodeProto;
  metadata: ExplainMetadata;
  classes: readonly string[] | undefined;
  target: string;
}): Explainer {
  const { model, node, metadata, classes, target } = args;
  if (metadata.covers === undefined) {
    throw new StratumError(
      'UNSUPPORTED',
      `${target} cannot be explained: its trees carry no covers (metadata "${EXPLAIN_METADATA_KEY}"); models trained before explanations existed lack them — train it again`,
    );
  }
  const featureValue = node.input[0] as string;
  const numFeatures = featureWidth(model, featureValue) ?? metadata.features?.length ?? metadata.columns?.length;
  if (numFeatures === undefined) {
    throw new StratumError('UNSUPPORTED', `${target} cannot be explained: the width of "${featureValue}" is unknown`);
  }
  const ensemble = treeEnsembleFromOnnx({ node, covers: metadata.covers, numFeatures });
  const regression = node.op_type === 'TreeEnsembleRegressor';
  return {
    method: 'tree_path_dependent',
    explained: regression ? 'value' : ensemble.numOutputs === 1 ? 'log_odds' : 'logits',
    ...naming({ metadata, featureValue, numFeatures, target }),
    outputs: outputNames({ regression, numOutputs: ensemble.numOutputs, classes }),
    costPerRow: treeShapCost(ensemble),
    explain: (features) => treeShap(ensemble, features),
  };
}

function linearExplainer(args: {
  model: DecodedModel;
  node: NodeProto;
  metadata: ExplainMetadata;
  classes: readonly string[] | undefined;
  target: string;
}): Explainer {
  const { model, node, metadata, classes, target } = args;
  const weight = initializer(model, LINEAR_WEIGHT);
  const bias = initializer(model, node.input[2] ?? '');
  if (weight === undefined || weight.dims.length !== 2 || bias === undefined) {
    throw new StratumError(
      'UNSUPPORTED',
      `${target} cannot be explained: its linear layer has no constant weights and bias`,
    );
  }
  const [numFeatures, numOutputs] = weight.dims as [number, number];
  if (metadata.means?.length !== numFeatures) {
    throw new StratumError(
      'UNSUPPORTED',
      `${target} cannot be explained: linear SHAP needs the training mean of each of its ${numFeatures} features (metadata "${EXPLAIN_METADATA_KEY}".means); models trained before explanations existed lack them — train it again`,
    );
  }
  const linear = {
    weights: Float64Array.from(weight.data),
    bias: Array.from(bias.data),
    means: metadata.means,
    numFeatures,
    numOutputs,
  };
  const regression = !model.graph.output.some((output) => output.name === 'probabilities');
  const featureValue = node.input[0] as string;
  return {
    method: 'linear_interventional',
    explained: regression ? 'value' : numOutputs === 1 ? 'log_odds' : 'logits',
    ...naming({ metadata, featureValue, numFeatures, target }),
    outputs: outputNames({ regression, numOutputs, classes }),
    costPerRow: numFeatures * numOutputs,
    explain: (features) => linearShap(linear, features),
  };
}

function naming(args: { metadata: ExplainMetadata; featureValue: string; numFeatures: number; target: string }): {
  featureValue: string;
  features: readonly string[];
  columns: readonly string[];
} {
  const { metadata, featureValue, numFeatures, target } = args;
  const features = metadata.features ?? Array.from({ length: numFeatures }, (_, i) => `${featureValue}[${i}]`);
  const columns = metadata.columns ?? features;
  if (features.length !== numFeatures || columns.length !== numFeatures) {
    throw new StratumError(
      'INVALID_MODEL',
      `${target}: metadata "${EXPLAIN_METADATA_KEY}" names ${features.length} features and ${columns.length} columns for ${numFeatures} features`,
    );
  }
  return { featureValue, features, columns };
}

function outputNames(args: {
  regression: boolean;
  numOutputs: number;
  classes: readonly string[] | undefined;
}): string[] {
  const { regression, numOutputs, classes } = args;
  if (regression)
    return numOutputs === 1 ? ['predictions'] : Array.from({ length: numOutputs }, (_, k) => `predictions[${k}]`);
  // A binary margin is the positive class's log-odds.
  const offset = numOutputs === 1 ? 1 : 0;
  return Array.from({ length: numOutputs }, (_, k) => classes?.[k + offset] ?? String(k + offset));
}

function parseClasses(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** The fixed width of a FLOAT `[N, F]` value, from the graph's inputs or value infos. */
function featureWidth(model: DecodedModel, name: string): number | undefined {
  const info = [...model.graph.input, ...model.graph.value_info, ...model.graph.output].find((v) => v.name === name);
  const dim = info?.type?.tensor_type?.shape?.dim[1]?.dim_value;
  return dim === undefined || dim <= 0 ? undefined : Number(dim);
}

function initializer(
  model: DecodedModel,
  name: string,
): { dims: number[]; data: Float32Array | Float64Array } | undefined {
  const proto = model.graph.initializer.find((tensor) => tensor.name === name);
  if (proto === undefined) return undefined;
  // Round-trip through the tensor codec so raw_data and the typed fields are read the same way.
  const contents = readTensorProto(decodeTensor(encodeTensor(proto)));
  if (!(contents.data instanceof Float32Array || contents.data instanceof Float64Array)) return undefined;
  return { dims: [...contents.dims], data: contents.data };
}
