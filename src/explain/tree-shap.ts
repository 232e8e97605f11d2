/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent individualized feature
 * attribution for tree ensembles", Algorithm 2): the Shapley values of every feature for one row
 * in O(leaves · depth²) per tree, where a feature outside the coalition follows both children
 * weighted by their training covers. This is what `shap.TreeExplainer` computes with
 * `feature_perturbation="tree_path_dependent"` (its `tree_shap_recursive` in `tree_shap.h`), so
 * its fixtures check this module directly. The values are exact: Σφ + base = the ensemble's
 * margin for the row, with base the cover-weighted mean of the leaves.
 */
import type { ExplainEnsemble, ExplainTree } from './tree-ensemble.ts';

/** SHAP values of a block of rows. */
export interface TreeShapResult {
  /** Row-major `rows × outputs × features`. */
  readonly values: Float64Array;
  /** Expected margin per output: the value with no feature known. */
  readonly base: readonly number[];
}

/** The path of unique features from the root, shared by one recursion (Algorithm 2's `m`). */
interface Path {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  weight: Float64Array;
}

/**
 * The expected margin per output: `base_values` plus each tree's leaves weighted by cover.
 *
 * @example
 * ```ts
 * expectedValue(ensemble) // [0.41] for a regressor
 * ```
 */
export function expectedValue(ensemble: ExplainEnsemble): number[] {
  const base = [...ensemble.base];
  for (const tree of ensemble.trees) {
    const mean = treeMean(tree, ensemble.numOutputs);
    for (let k = 0; k < base.length; k++) base[k] = (base[k] as number) + (mean[k] as number);
  }
  return base;
}

/**
 * TreeSHAP values of `rows` (row-major `rows × numFeatures` float32).
 *
 * @example
 * ```ts
 * const { values, base } = treeShap(ensemble, features) // Σ values[r, k, ·] + base[k] = margin[r, k]
 * ```
 */
export function treeShap(ensemble: ExplainEnsemble, rows: Float32Array): TreeShapResult {
  const { numFeatures, numOutputs } = ensemble;
  const numRows = numFeatures === 0 ? 0 : rows.length / numFeatures;
  const values = new Float64Array(numRows * numOutputs * numFeatures);
  const maxDepth = Math.max(0, ...ensemble.trees.map(treeDepth));
  // Each level of the recursion keeps its own copy of the path, so the space is (d+1)(d+2)/2.
  const size = ((maxDepth + 2) * (maxDepth + 3)) / 2;
  const path: Path = {
    feature: new Int32Array(size),
    zero: new Float64Array(size),
    one: new Float64Array(size),
    weight: new Float64Array(size),
  };
  for (let r = 0; r < numRows; r++) {
    const x = rows.subarray(r * numFeatures, (r + 1) * numFeatures);
    const phi = values.subarray(r * numOutputs * numFeatures, (r + 1) * numOutputs * numFeatures);
    for (const tree of ensemble.trees) {
      recurse(
        { tree, x, phi, path, numOutputs, numFeatures },
        { node: 0, depth: 0, start: -1, zero: 1, one: 1, feature: -1 },
      );
    }
  }
  return { values, base: expectedValue(ensemble) };
}

/** Element `index` of the path that starts at `begin` and ends at `begin + depth`. */
interface PathElement {
  readonly begin: number;
  readonly depth: number;
  readonly index: number;
}

interface Walk {
  readonly tree: ExplainTree;
  readonly x: Float32Array;
  readonly phi: Float64Array;
  readonly path: Path;
  readonly numOutputs: number;
  readonly numFeatures: number;
}

interface Step {
  node: number;
  /** Length of the parent's path (Algorithm 2's `unique_depth`). */
  depth: number;
  /** Where the parent's path starts in the shared buffers. */
  start: number;
  zero: number;
  one: number;
  feature: number;
}

function recurse(walk: Walk, step: Step): void {
  const { tree, x, phi, path, numOutputs, numFeatures } = walk;
  const { node } = step;
  let depth = step.depth;
  // This level's path starts right after the parent's (as `parent_unique_path + unique_depth + 1`
  // in shap's tree_shap.h), so the parent's survives for its other child.
  const begin = step.start + depth + 1;
  for (let i = 0; i < depth; i++) copyElement(path, step.start + i, begin + i);
  extend(path, { begin, depth, zero: step.zero, one: step.one, feature: step.feature });
  const split = tree.feature[node] as number;
  if (split < 0) {
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(path, { begin, depth, index: i });
      const e = begin + i;
      const scale = w * ((path.one[e] as number) - (path.zero[e] as number));
      const f = path.feature[e] as number;
      for (let k = 0; k < numOutputs; k++) {
        const index = k * numFeatures + f;
        phi[index] = (phi[index] as number) + scale * (tree.value[node * numOutputs + k] as number);
      }
    }
    return;
  }
  const hot = goesYes(tree, node, x[split] as number) ? (tree.yes[node] as number) : (tree.no[node] as number);
  const cold = hot === tree.yes[node] ? (tree.no[node] as number) : (tree.yes[node] as number);
  const cover = tree.cover[node] as number;
  const hotZero = cover > 0 ? (tree.cover[hot] as number) / cover : 0;
  const coldZero = cover > 0 ? (tree.cover[cold] as number) / cover : 0;
  let incomingZero = 1;
  let incomingOne = 1;
  // A feature already on the path is unwound and extended again with both fractions combined.
  let found = -1;
  for (let i = 0; i <= depth; i++) {
    if (path.feature[begin + i] === split) {
      found = i;
      break;
    }
  }
  if (found >= 0) {
    incomingZero = path.zero[begin + found] as number;
    incomingOne = path.one[begin + found] as number;
    unwind(path, { begin, depth, index: found });
    depth -= 1;
  }
  recurse(walk, {
    node: hot,
    depth: depth + 1,
    start: begin,
    zero: hotZero * incomingZero,
    one: incomingOne,
    feature: split,
  });
  recurse(walk, { node: cold, depth: depth + 1, start: begin, zero: coldZero * incomingZero, one: 0, feature: split });
}

/** Whether `value` takes node `n`'s `yes` child (ONNX's decision, NaN per `missingYes`). */
function goesYes(tree: ExplainTree, n: number, value: number): boolean {
  if (Number.isNaN(value)) return tree.missingYes[n] === 1;
  const threshold = tree.threshold[n] as number;
  switch (tree.mode[n]) {
    case 0:
      return value <= threshold;
    case 1:
      return value < threshold;
    case 2:
      return value >= threshold;
    case 3:
      return value > threshold;
    case 4:
      return value === threshold;
    default:
      return value !== threshold;
  }
}

function copyElement(path: Path, from: number, to: number): void {
  path.feature[to] = path.feature[from] as number;
  path.zero[to] = path.zero[from] as number;
  path.one[to] = path.one[from] as number;
  path.weight[to] = path.weight[from] as number;
}

function extend(path: Path, args: { begin: number; depth: number; zero: number; one: number; feature: number }): void {
  const { begin, depth, zero, one, feature } = args;
  const end = begin + depth;
  path.feature[end] = feature;
  path.zero[end] = zero;
  path.one[end] = one;
  path.weight[end] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    const w = path.weight[begin + i] as number;
    path.weight[begin + i + 1] = (path.weight[begin + i + 1] as number) + (one * w * (i + 1)) / (depth + 1);
    path.weight[begin + i] = (zero * w * (depth - i)) / (depth + 1);
  }
}

function unwind(path: Path, { begin, depth, index }: PathElement): void {
  const one = path.one[begin + index] as number;
  const zero = path.zero[begin + index] as number;
  let next = path.weight[begin + depth] as number;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const saved = path.weight[begin + i] as number;
      path.weight[begin + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = saved - ((path.weight[begin + i] as number) * zero * (depth - i)) / (depth + 1);
    } else {
      path.weight[begin + i] = ((path.weight[begin + i] as number) * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    path.feature[begin + i] = path.feature[begin + i + 1] as number;
    path.zero[begin + i] = path.zero[begin + i + 1] as number;
    path.one[begin + i] = path.one[begin + i + 1] as number;
  }
}

/** The total weight of the path with element `index` unwound, without changing the path. */
function unwoundSum(path: Path, { begin, depth, index }: PathElement): number {
  const one = path.one[begin + index] as number;
  const zero = path.zero[begin + index] as number;
  let next = path.weight[begin + depth] as number;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const w = (next * (depth + 1)) / ((i + 1) * one);
      total += w;
      next = (path.weight[begin + i] as number) - (w * zero * (depth - i)) / (depth + 1);
    } else if (zero !== 0) {
      total += (path.weight[begin + i] as number) / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

/**
 * Rough work of one row: Σ over trees of leaves · depth² (each leaf unwinds its path once per
 * element), the unit a caller bounds its work by.
 */
export function treeShapCost(ensemble: ExplainEnsemble): number {
  let cost = 0;
  for (const tree of ensemble.trees) {
    const depth = treeDepth(tree);
    let leaves = 0;
    for (let n = 0; n < tree.feature.length; n++) if ((tree.feature[n] as number) < 0) leaves++;
    cost += leaves * Math.max(1, depth * depth);
  }
  return cost;
}

/** The cover-weighted mean of a tree's leaves, per output. */
function treeMean(tree: ExplainTree, numOutputs: number): number[] {
  const walk = (n: number): number[] => {
    if ((tree.feature[n] as number) < 0)
      return Array.from({ length: numOutputs }, (_, k) => tree.value[n * numOutputs + k] as number);
    const yes = tree.yes[n] as number;
    const no = tree.no[n] as number;
    const cover = tree.cover[n] as number;
    const a = walk(yes);
    const b = walk(no);
    const wy = cover > 0 ? (tree.cover[yes] as number) / cover : 0;
    const wn = cover > 0 ? (tree.cover[no] as number) / cover : 0;
    return a.map((v, k) => v * wy + (b[k] as number) * wn);
  };
  return walk(0);
}

function treeDepth(tree: ExplainTree): number {
  const depth = (n: number): number =>
    (tree.feature[n] as number) < 0 ? 0 : 1 + Math.max(depth(tree.yes[n] as number), depth(tree.no[n] as number));
  return depth(0);
}
