/**
 * A tree ensemble in the form exact TreeSHAP reads: per tree, parallel typed arrays of the split
 * feature, threshold, decision mode, children, each node's cover (the training weight that reached
 * it) and the leaf values per model output. {@link treeEnsembleFromOnnx} builds it from the
 * attributes of an ONNX `TreeEnsembleRegressor`/`TreeEnsembleClassifier` node, whatever exporter
 * wrote it; the covers, which ONNX has no attribute for, come separately.
 */
import { StratumError } from '../errors/index.ts';
import type { AttributeProto, NodeProto } from '../onnx/onnx-proto.ts';

/** How a branch node decides; `true` is the node's true (left) child, as in ONNX `nodes_modes`. */
export const BRANCH_MODES = Object.freeze([
  'BRANCH_LEQ',
  'BRANCH_LT',
  'BRANCH_GTE',
  'BRANCH_GT',
  'BRANCH_EQ',
  'BRANCH_NEQ',
]);

/** One tree; node ids index every array, `feature[n] < 0` marks a leaf. */
export interface ExplainTree {
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  /** Index into {@link BRANCH_MODES} per branch node. */
  readonly mode: Uint8Array;
  /** Child taken when the decision holds. */
  readonly yes: Int32Array;
  readonly no: Int32Array;
  /** Whether a NaN feature takes the `yes` child (ONNX `nodes_missing_value_tracks_true`). */
  readonly missingYes: Uint8Array;
  /** Training weight (hessian sum or row count) that reached each node. */
  readonly cover: Float64Array;
  /** Leaf value per node and output, row-major `nodes × outputs` (aggregate scaling applied). */
  readonly value: Float64Array;
}

/** A tree ensemble's margin: `base[k] + Σ_trees value[leaf, k]`. */
export interface ExplainEnsemble {
  readonly trees: readonly ExplainTree[];
  /** Outputs of the margin (1 for regression and binary, K for multiclass). */
  readonly numOutputs: number;
  /** Features the ensemble reads (the width of its input). */
  readonly numFeatures: number;
  /** The margin every prediction starts from, per output (ONNX `base_values`, zeros when absent). */
  readonly base: readonly number[];
}

/** Covers per tree, in the node's tree-id order, one per node id. */
export type TreeCovers = readonly (readonly number[])[];

/**
 * Builds the ensemble from a tree-ensemble node and per-node covers.
 *
 * @throws StratumError INVALID_MODEL when the node uses something TreeSHAP cannot follow (a
 *   `BRANCH_MEMBER` node, an aggregate other than SUM or AVERAGE) or the covers do not fit the
 *   trees.
 */
export function treeEnsembleFromOnnx(args: {
  node: NodeProto;
  covers: TreeCovers;
  numFeatures: number;
}): ExplainEnsemble {
  const { node, covers, numFeatures } = args;
  const regressor = node.op_type === 'TreeEnsembleRegressor';
  const prefix = regressor ? 'target' : 'class';
  const a = attributes(node);
  const treeIds = a.ints('nodes_treeids');
  const numTrees = treeIds.length === 0 ? 0 : Math.max(...treeIds) + 1;
  if (covers.length !== numTrees) {
    throw new StratumError(
      'INVALID_MODEL',
      `tree covers: expected one list per tree (${numTrees}), got ${covers.length}`,
    );
  }
  const numOutputs = regressor
    ? (a.int('n_targets') ?? 1)
    : a.ints('classlabels_int64s').length || a.strings('classlabels_strings').length;
  // A binary classifier scores only the positive class (ONNX writes one weight per leaf for it).
  const classIds = a.ints(`${prefix}_ids`);
  const margins =
    !regressor && numOutputs === 2 && classIds.every((id) => id === 1 || id === 0) && new Set(classIds).size === 1
      ? 1
      : numOutputs;
  const aggregate = a.string('aggregate_function') ?? 'SUM';
  if (aggregate !== 'SUM' && aggregate !== 'AVERAGE') {
    throw new StratumError(
      'INVALID_MODEL',
      `tree ensemble: aggregate_function ${aggregate} cannot be explained (SUM or AVERAGE)`,
    );
  }
  const scale = aggregate === 'AVERAGE' ? 1 / Math.max(numTrees, 1) : 1;
  const trees = Array.from({ length: numTrees }, (_, t) => emptyTree(covers[t] as readonly number[], margins));
  fillNodes({ a, trees });
  const leafTrees = a.ints(`${prefix}_treeids`);
  const leafNodes = a.ints(`${prefix}_nodeids`);
  const weights = a.floats(`${prefix}_weights`);
  leafTrees.forEach((t, i) => {
    const tree = trees[t];
    const n = leafNodes[i] as number;
    if (tree === undefined || n >= tree.feature.length) {
      throw new StratumError(
        'INVALID_MODEL',
        `tree ensemble: leaf weight ${i} names tree ${t} node ${n}, which has no cover`,
      );
    }
    const k = margins === 1 ? 0 : (classIds[i] as number);
    tree.value[n * margins + k] = (tree.value[n * margins + k] as number) + (weights[i] as number) * scale;
  });
  const base = a.floats('base_values');
  return {
    trees,
    numOutputs: margins,
    numFeatures,
    base: base.length === 0 ? new Array<number>(margins).fill(0) : base.slice(base.length - margins),
  };
}

function emptyTree(cover: readonly number[], outputs: number): ExplainTree {
  const n = cover.length;
  return {
    feature: new Int32Array(n).fill(-1),
    threshold: new Float32Array(n),
    mode: new Uint8Array(n),
    yes: new Int32Array(n).fill(-1),
    no: new Int32Array(n).fill(-1),
    missingYes: new Uint8Array(n),
    cover: Float64Array.from(cover),
    value: new Float64Array(n * outputs),
  };
}

function fillNodes({ a, trees }: { a: Attributes; trees: ExplainTree[] }): void {
  const treeIds = a.ints('nodes_treeids');
  const nodeIds = a.ints('nodes_nodeids');
  const features = a.ints('nodes_featureids');
  const modes = a.strings('nodes_modes');
  const values = a.floats('nodes_values');
  const yes = a.ints('nodes_truenodeids');
  const no = a.ints('nodes_falsenodeids');
  const missing = a.ints('nodes_missing_value_tracks_true');
  treeIds.forEach((t, i) => {
    const tree = trees[t] as ExplainTree;
    const n = nodeIds[i] as number;
    if (n >= tree.feature.length) {
      throw new StratumError('INVALID_MODEL', `tree covers: tree ${t} has node ${n} but ${tree.feature.length} covers`);
    }
    const mode = modes[i] ?? 'LEAF';
    if (mode === 'LEAF') return;
    const index = BRANCH_MODES.indexOf(mode);
    if (index < 0) throw new StratumError('INVALID_MODEL', `tree ensemble: node mode ${mode} cannot be explained`);
    tree.feature[n] = features[i] as number;
    tree.threshold[n] = values[i] as number;
    tree.mode[n] = index;
    tree.yes[n] = yes[i] as number;
    tree.no[n] = no[i] as number;
    tree.missingYes[n] = missing[i] === 1 ? 1 : 0;
  });
}

interface Attributes {
  ints(name: string): number[];
  floats(name: string): number[];
  strings(name: string): string[];
  int(name: string): number | undefined;
  string(name: string): string | undefined;
}

function attributes(node: NodeProto): Attributes {
  const byName = new Map<string, AttributeProto>(node.attribute.map((attribute) => [attribute.name ?? '', attribute]));
  const decoder = new TextDecoder();
  return {
    ints: (name) => [...(byName.get(name)?.ints ?? [])].map(Number),
    floats: (name) => {
      const attribute = byName.get(name);
      if (attribute === undefined) return [];
      // ai.onnx.ml 3 also allows the `_as_tensor` forms; Stratum's exporters write the float lists.
      return [...attribute.floats];
    },
    strings: (name) => (byName.get(name)?.strings ?? []).map((bytes) => decoder.decode(bytes)),
    int: (name) => {
      const value = byName.get(name)?.i;
      return value === undefined ? undefined : Number(value);
    },
    string: (name) => {
      const value = byName.get(name)?.s;
      return value === undefined ? undefined : decoder.decode(value);
    },
  };
}
