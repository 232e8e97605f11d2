/**
 * Grows one regression tree on gradients and hessians, best-first under a depth and a leaf
 * budget, from binned features:
 * per-node histograms of (gradient, hessian) per bin, the child with the smaller hessian built
 * from its rows and the other by subtracting it from the parent, and splits scored with the
 * second-order gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`. The rows themselves live in a
 * {@link ShardSet}, so the same grower drives one thread or several.
 */
import type { GbdtTree } from './gbdt-model.ts';
import { FEATURE_STRIDE, SLOT } from './row-shard.ts';
import type { ShardSet } from './shard-set.ts';

/** Options for {@link growTree}. */
export interface GrowTreeOptions {
  /** The rows, already holding this tree's gradients and row set. */
  readonly shards: ShardSet;
  /** Bin edges per feature; feature `f` has `edges[f].length + 1` bins. */
  readonly edges: readonly Float32Array[];
  /** Features the tree may split on, ascending. */
  readonly features: Int32Array;
  /** Largest depth (a root-only tree has depth 0). */
  readonly maxDepth: number;
  /** Largest number of leaves. */
  readonly maxLeaves: number;
  /** Smallest hessian sum a child may have. */
  readonly minChildWeight: number;
  /** L2 penalty on leaf values. */
  readonly lambda: number;
  /** Shrinkage applied to every leaf value. */
  readonly learningRate: number;
  /** Reused histogram memory. */
  readonly pool: HistogramPool;
}

/** A grown tree plus the bin index of each split, for fast prediction on binned rows. */
export interface GrownTree {
  /** The tree, thresholds as float32 feature values. */
  readonly tree: GbdtTree;
  /** Split bin per node (`bin <= binThreshold` goes left); `-1` for a leaf. */
  readonly binThreshold: number[];
}

/** Free histograms (one slot per feature and bin), reused across nodes and trees. */
export interface HistogramPool {
  /** A zeroed histogram. */
  take(): Float64Array;
  /** Returns a histogram for reuse. */
  give(histogram: Float64Array): void;
}

/** A pool of histograms for features with `numBins[f]` bins each. */
export function histogramPool(numBins: Int32Array): HistogramPool {
  const free: Float64Array[] = [];
  return {
    take: () => {
      const histogram = free.pop();
      if (histogram === undefined) return new Float64Array(numBins.length * FEATURE_STRIDE);
      // Only the bins a feature has are ever written or read; most one-hot features have two of 256.
      for (let f = 0; f < numBins.length; f++) {
        const start = f * FEATURE_STRIDE;
        histogram.fill(0, start, start + (numBins[f] as number) * SLOT);
      }
      return histogram;
    },
    give: (histogram) => {
      free.push(histogram);
    },
  };
}

/** A node's best split and its left side's sums. */
export interface Split {
  feature: number;
  bin: number;
  gain: number;
  gradLeft: number;
  hessLeft: number;
}

interface Leaf {
  readonly id: number;
  readonly depth: number;
  readonly histogram: Float64Array;
  readonly grad: number;
  readonly hess: number;
  readonly split: Split | undefined;
}

/** Grows a tree; see the module comment for the method. */
export function growTree(options: GrowTreeOptions): GrownTree {
  const { shards, features, lambda, learningRate, pool } = options;
  const tree: GbdtTree & { cover: number[] } = {
    feature: [],
    threshold: [],
    left: [],
    right: [],
    value: [],
    cover: [],
  };
  const binThreshold: number[] = [];

  const addLeaf = (leaf: Omit<Leaf, 'id' | 'split'>): Leaf => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(Math.fround((-leaf.grad / (leaf.hess + lambda)) * learningRate));
    tree.cover.push(leaf.hess);
    binThreshold.push(-1);
    const split = leaf.depth < options.maxDepth ? bestSplit(options, leaf) : undefined;
    // A leaf that cannot split never needs its histogram again.
    if (split === undefined) pool.give(leaf.histogram);
    return { ...leaf, id, split };
  };

  const rootHistogram = pool.take();
  const [grad, hess] = shards.root({ features, histogram: rootHistogram });
  // Best-first: always split the open leaf with the largest gain (ties: the older leaf), so a
  // leaf budget keeps the most useful splits; without one the tree equals depth-wise growth.
  const open: Leaf[] = [addLeaf({ depth: 0, histogram: rootHistogram, grad, hess })].filter(canSplit);
  let numLeaves = 1;
  while (numLeaves < options.maxLeaves) {
    let pick = -1;
    for (let i = 0; i < open.length; i++) {
      const gain = open[i]?.split?.gain;
      if (gain !== undefined && (pick < 0 || gain > (open[pick]?.split?.gain as number))) pick = i;
    }
    if (pick < 0) break;
    const [leaf] = open.splice(pick, 1);
    if (leaf?.split === undefined) break;
    open.push(...splitLeaf({ options, leaf, split: leaf.split, addLeaf, tree, binThreshold }).filter(canSplit));
    numLeaves++;
  }
  for (const leaf of open) pool.give(leaf.histogram);
  return { tree, binThreshold };
}

function canSplit(leaf: Leaf): boolean {
  return leaf.split !== undefined;
}

/** Turns `leaf` into a branch and returns its two new leaves. */
function splitLeaf(args: {
  options: GrowTreeOptions;
  leaf: Leaf;
  split: Split;
  addLeaf: (leaf: Omit<Leaf, 'id' | 'split'>) => Leaf;
  tree: GbdtTree;
  binThreshold: number[];
}): [Leaf, Leaf] {
  const { options, leaf, split, addLeaf, tree, binThreshold } = args;
  const { features } = options;
  const edges = options.edges[split.feature] as Float32Array;
  tree.feature[leaf.id] = split.feature;
  tree.threshold[leaf.id] = edges[split.bin] as number;
  tree.value[leaf.id] = 0;
  binThreshold[leaf.id] = split.bin;

  const leftId = tree.feature.length;
  const rightId = leftId + 1;
  // Build the smaller child's histogram from its rows; the parent's becomes the larger child's.
  const leftIsSmall = isLeftSmaller(leaf, split);
  const depth = leaf.depth + 1;
  // Children at the depth limit never split, so their histograms would go unused.
  const skipHistogram = depth >= options.maxDepth;
  const small = options.pool.take();
  options.shards.split({
    split: {
      node: leaf.id,
      left: leftId,
      right: rightId,
      feature: split.feature,
      bin: split.bin,
      buildLeft: leftIsSmall,
      skipHistogram,
    },
    features,
    histogram: small,
  });
  const large = leaf.histogram;
  if (!skipHistogram) {
    for (let j = 0; j < features.length; j++) {
      const start = (features[j] as number) * FEATURE_STRIDE;
      const end = start + ((options.edges[features[j] as number] as Float32Array).length + 1) * SLOT;
      for (let i = start; i < end; i++) large[i] = (large[i] as number) - (small[i] as number);
    }
  }
  const left = addLeaf({
    depth,
    histogram: leftIsSmall ? small : large,
    grad: split.gradLeft,
    hess: split.hessLeft,
  });
  const right = addLeaf({
    depth,
    histogram: leftIsSmall ? large : small,
    grad: leaf.grad - split.gradLeft,
    hess: leaf.hess - split.hessLeft,
  });
  tree.left[leaf.id] = left.id;
  tree.right[leaf.id] = right.id;
  return [left, right];
}

/**
 * Whether the left child is the one to build from its rows: the one with the smaller hessian sum,
 * as XGBoost chooses (rows would be the exact cost, but no shard knows the other shards' counts).
 */
export function isLeftSmaller(node: { hess: number }, split: Split): boolean {
  return split.hessLeft <= node.hess - split.hessLeft;
}

/**
 * The smallest hessian a non-empty side of a split of `node` has. Every row's hessian is positive,
 * so a side without rows sums to zero, or, where a sum came from a subtraction, to its rounding
 * residue: far below a billionth of the node's.
 */
function minSideHessian(minChildWeight: number, hess: number): number {
  return Math.max(minChildWeight, hess * 1e-9);
}

/** The split of `node` with the largest gain, if one passes the limits. */
export function bestSplit(
  options: GrowTreeOptions,
  node: { histogram: Float64Array; grad: number; hess: number },
): Split | undefined {
  const { lambda, features } = options;
  const { histogram, grad, hess } = node;
  const minHess = minSideHessian(options.minChildWeight, hess);
  const parentScore = (grad * grad) / (hess + lambda);
  let best: Split | undefined;
  for (let j = 0; j < features.length; j++) {
    const f = features[j] as number;
    const numBins = (options.edges[f] as Float32Array).length + 1;
    let gradLeft = 0;
    let hessLeft = 0;
    for (let b = 0; b + 1 < numBins; b++) {
      const slot = f * FEATURE_STRIDE + b * SLOT;
      gradLeft += histogram[slot] as number;
      hessLeft += histogram[slot + 1] as number;
      const hessRight = hess - hessLeft;
      if (hessLeft < minHess || hessRight < minHess) continue;
      const gradRight = grad - gradLeft;
      const gain =
        (gradLeft * gradLeft) / (hessLeft + lambda) + (gradRight * gradRight) / (hessRight + lambda) - parentScore;
      if (gain > 1e-12 && (best === undefined || gain > best.gain)) {
        best = { feature: f, bin: b, gain, gradLeft, hessLeft };
      }
    }
  }
  return best;
}
