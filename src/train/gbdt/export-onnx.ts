/**
 * Exports a {@link GbdtModel} as an ONNX graph with one ai.onnx.ml tree-ensemble node:
 * `TreeEnsembleRegressor` for regression (output `variable`, `[N, 1]`, or the name the caller
 * gives: the pipeline calls it `predictions` like the other trainers) and
 * `TreeEnsembleClassifier` for binary (LOGISTIC) and multiclass (SOFTMAX) models (outputs
 * `label`, int64 `[N]`, and `probabilities`, `[N, K]`: the shared classifier outputs of
 * `common/output-head.ts`). Thresholds and leaf values are already float32, so the graph computes
 * what {@link predictGbdt} computes. {@link addGbdtGraph} appends the same node to a graph that
 * already computes the features.
 */
import { EXPLAIN_METADATA_KEY, explainMetadataText } from '../../explain/explain-metadata.ts';
import { attr, type AttributeValue } from '../../onnx/attribute.ts';
import { GraphBuilder, type ValueSpec } from '../../onnx/graph-builder.ts';
import { LABEL_OUTPUT, modelOutputSpecs, PROBABILITIES_OUTPUT } from '../common/output-head.ts';
import type { GbdtModel, GbdtTree } from './gbdt-model.ts';

/** Options for {@link exportGbdtOnnx}. */
export interface ExportGbdtOnnxOptions {
  /** Name of the FLOAT `[N, numFeatures]` input. @default 'input' */
  readonly inputName?: string;
  /** Graph name. @default 'gbdt' */
  readonly graphName?: string;
}

/**
 * onnxruntime treats a binary classifier whose class weights are all >= 0 as a "probability"
 * model (scores `[1 − s, s]`, no logistic). A single-leaf tree with this weight rules that out and
 * changes no float32 score of magnitude above ~1e-23.
 */
const NEGATIVE_SENTINEL = -1e-30;

/** Options for {@link addGbdtGraph}. */
export interface AddGbdtGraphOptions {
  /** Name of a FLOAT `[N, numFeatures]` value already defined in the builder. */
  readonly input: string;
  /** Symbolic batch dimension written in the returned output shapes. @default 'N' */
  readonly batchDim?: string;
  /** Name of a regressor's output. @default 'variable' */
  readonly regressionOutput?: string;
}

/**
 * Appends the ensemble to `builder` (which must import `ai.onnx.ml`, as the default opsets do),
 * reading `options.input`. Defines `variable` (or `options.regressionOutput`; regression) or
 * `label` and `probabilities` (classifiers), so these names must be free. Declares no graph output.
 *
 * @returns the node's outputs, ready for `builder.addOutput`: `variable` FLOAT `[N, 1]`, or
 *   `label` INT64 `[N]` and `probabilities` FLOAT `[N, K]`.
 * @example
 * ```ts
 * const g = new GraphBuilder({ name: 'pipeline', opsets: FEATURE_OPSETS })
 * const features = addFeatureGraph(g, fitted)
 * for (const output of addGbdtGraph(g, model, { input: features })) g.addOutput(output)
 * ```
 */
export function addGbdtGraph(builder: GraphBuilder, model: GbdtModel, options: AddGbdtGraphOptions): ValueSpec[] {
  const { input } = options;
  const batch = options.batchDim ?? 'N';
  const numOutputs = model.baseScore.length;
  const { trees, outputOf } = onnxTrees(model);
  const nodes = nodeAttributes(trees);
  const leaves = leafAttributes({ trees, outputOf });

  const outputs = modelOutputSpecs({
    objective: model.objective,
    numClasses: model.numClasses,
    batchDim: batch,
    outputName: model.objective === 'regression' ? (options.regressionOutput ?? 'variable') : PROBABILITIES_OUTPUT,
  });
  if (model.objective === 'regression') {
    builder.addNode({
      op: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      inputs: [input],
      outputs: outputs.map((o) => o.name),
      attributes: {
        ...nodes,
        target_treeids: attr.ints(leaves.treeIds),
        target_nodeids: attr.ints(leaves.nodeIds),
        target_ids: attr.ints(leaves.outputIds),
        target_weights: attr.floats(leaves.weights),
        n_targets: attr.int(numOutputs),
        base_values: attr.floats(model.baseScore),
        aggregate_function: attr.string('SUM'),
        post_transform: attr.string('NONE'),
      },
    });
    return outputs;
  }
  builder.addNode({
    op: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    inputs: [input],
    outputs: [LABEL_OUTPUT, PROBABILITIES_OUTPUT],
    attributes: {
      ...nodes,
      class_treeids: attr.ints(leaves.treeIds),
      class_nodeids: attr.ints(leaves.nodeIds),
      class_ids: attr.ints(leaves.outputIds),
      class_weights: attr.floats(leaves.weights),
      classlabels_int64s: attr.ints(Array.from({ length: model.numClasses }, (_, k) => k)),
      base_values: attr.floats(model.baseScore),
      post_transform: attr.string(model.objective === 'binary' ? 'LOGISTIC' : 'SOFTMAX'),
    },
  });
  return outputs;
}

/** The trees in the order the ONNX node numbers them, and the output each adds to. */
function onnxTrees(model: GbdtModel): { trees: GbdtTree[]; outputOf: number[] } {
  const trees: GbdtTree[] = [];
  const outputOf: number[] = [];
  for (const round of model.trees) {
    round.forEach((tree, k) => {
      trees.push(tree);
      outputOf.push(k);
    });
  }
  if (model.objective === 'binary' && trees.every((tree) => tree.value.every((value) => value >= 0))) {
    trees.push({ feature: [-1], threshold: [0], left: [-1], right: [-1], value: [NEGATIVE_SENTINEL], cover: [1] });
    outputOf.push(0);
  }
  return { trees, outputOf };
}

/**
 * Each tree's node covers in the exported node's tree order (what TreeSHAP needs and ONNX has no
 * attribute for), or undefined when a tree has none (a model trained before covers were kept).
 *
 * @example
 * ```ts
 * gbdtOnnxCovers(model) // [[412.5, 230.1, 182.4], …]
 * ```
 */
export function gbdtOnnxCovers(model: GbdtModel): number[][] | undefined {
  const covers: number[][] = [];
  for (const tree of onnxTrees(model).trees) {
    if (tree.cover === undefined) return undefined;
    covers.push(tree.cover);
  }
  return covers;
}

/**
 * Builds the `.onnx` bytes of a trained ensemble.
 *
 * @example
 * ```ts
 * const bytes = exportGbdtOnnx(model, { inputName: 'x' })
 * ```
 */
export function exportGbdtOnnx(model: GbdtModel, options: ExportGbdtOnnxOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'input';
  const covers = gbdtOnnxCovers(model);
  const graph = new GraphBuilder({
    name: options.graphName ?? 'gbdt',
    ...(covers !== undefined && { metadata: { [EXPLAIN_METADATA_KEY]: explainMetadataText({ covers }) } }),
  });
  graph.addInput({ name: inputName, type: 'FLOAT', shape: ['N', model.numFeatures] });
  for (const output of addGbdtGraph(graph, model, { input: inputName })) graph.addOutput(output);
  return graph.toBytes();
}

function nodeAttributes(trees: readonly GbdtTree[]): Record<string, AttributeValue> {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  trees.forEach((tree, t) => {
    tree.feature.forEach((feature, n) => {
      const leaf = feature < 0;
      treeIds.push(t);
      nodeIds.push(n);
      featureIds.push(leaf ? 0 : feature);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : (tree.threshold[n] as number));
      trueIds.push(leaf ? 0 : (tree.left[n] as number));
      falseIds.push(leaf ? 0 : (tree.right[n] as number));
    });
  });
  return {
    nodes_treeids: attr.ints(treeIds),
    nodes_nodeids: attr.ints(nodeIds),
    nodes_featureids: attr.ints(featureIds),
    nodes_modes: attr.strings(modes),
    nodes_values: attr.floats(values),
    nodes_truenodeids: attr.ints(trueIds),
    nodes_falsenodeids: attr.ints(falseIds),
  };
}

function leafAttributes(args: { trees: readonly GbdtTree[]; outputOf: readonly number[] }): {
  treeIds: number[];
  nodeIds: number[];
  outputIds: number[];
  weights: number[];
} {
  const { trees, outputOf } = args;
  const result = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    outputIds: [] as number[],
    weights: [] as number[],
  };
  trees.forEach((tree, t) => {
    tree.feature.forEach((feature, n) => {
      if (feature >= 0) return;
      result.treeIds.push(t);
      result.nodeIds.push(n);
      result.outputIds.push(outputOf[t] as number);
      result.weights.push(tree.value[n] as number);
    });
  });
  return result;
}
