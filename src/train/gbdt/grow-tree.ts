/**
 * Grows one regression tree on gradients and hessians, best-first under a depth and a leaf
 * budget, from binned features:
 * per-node histograms of (gradient, hessian, count) per bin, the smaller child built from its
 * rows and the larger one by subtracting it from the parent, and splits scored with the
 * second-order gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`.
 */
import type { GbdtTree } from './gbdt-model.ts';

/** Histogram slots per feature; bin indices are bytes. */
const BIN_STRIDE = 256;
/** Values per histogram slot: gradient sum, hessian sum, row count. */
const SLOT = 3;

/** Options for {@link growTree}. */
export interface GrowTreeOptions {
  /** Row-major `N × numFeatures` bin indices. */
  readonly bins: Uint8Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** Bin edges per feature; feature `f` has `edges[f].length + 1` bins. */
  readonly edges: readonly Float32Array[];
  /** Gradient per row. */
  readonly gradients: Float64Array;
  /** Hessian per row. */
  readonly hessians: Float64Array;
  /** Rows to grow on; reordered in place. */
  readonly rows: Uint32Array;
  /** Features the tree may split on, ascending. */
  readonly features: readonly number[];
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
}

/** A grown tree plus the bin index of each split, for fast prediction on binned rows. */
export interface GrownTree {
  /** The tree, thresholds as float32 feature values. */
  readonly tree: GbdtTree;
  /** Split bin per node (`bin <= binThreshold` goes left); `-1` for a leaf. */
  readonly binThreshold: number[];
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
  gradLeft: number;
  hessLeft: number;
  countLeft: number;
}

/** Grows a tree; see the module comment for the method. */
export function growTree(options: GrowTreeOptions): GrownTree {
  const { rows, numFeatures, gradients, hessians, lambda, learningRate } = options;
  const tree: GbdtTree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const binThreshold: number[] = [];
  const scratch = new Uint32Array(rows.length);

  const addLeaf = (leaf: Omit<Leaf, 'id' | 'split'>): Leaf => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(Math.fround((-leaf.grad / (leaf.hess + lambda)) * learningRate));
    binThreshold.push(-1);
    const split = leaf.depth < options.maxDepth ? bestSplit(options, leaf) : undefined;
    return { ...leaf, id, split };
  };

  const rootHistogram = new Float64Array(numFeatures * BIN_STRIDE * SLOT);
  buildHistogram({ options, histogram: rootHistogram, start: 0, end: rows.length });
  let grad = 0;
  let hess = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as number;
    grad += gradients[row] as number;
    hess += hessians[row] as number;
  }
  // Best-first: always split the open leaf with the largest gain (ties: the older leaf), so a
  // leaf budget keeps the most useful splits; without one the tree equals depth-wise growth.
  // Only leaves that can still split are kept open, so finished leaves release their histograms.
  const open: Leaf[] = [addLeaf({ start: 0, end: rows.length, depth: 0, histogram: rootHistogram, grad, hess })].filter(
    canSplit,
  );
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
    open.push(
      ...splitLeaf({ options, leaf, split: leaf.split, scratch, addLeaf, tree, binThreshold }).filter(canSplit),
    );
    numLeaves++;
  }
  return { tree, binThreshold };
}

function canSplit(leaf: Leaf): boolean {
  return leaf.split !== undefined;
}

interface Leaf {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly depth: number;
  readonly histogram: Float64Array;
  readonly grad: number;
  readonly hess: number;
  readonly split: Split | undefined;
}

/** Turns `leaf` into a branch and returns its two new leaves. */
function splitLeaf(args: {
  options: GrowTreeOptions;
  leaf: Leaf;
  split: Split;
  scratch: Uint32Array;
  addLeaf: (leaf: Omit<Leaf, 'id' | 'split'>) => Leaf;
  tree: GbdtTree;
  binThreshold: number[];
}): [Leaf, Leaf] {
  const { options, leaf, split, scratch, addLeaf, tree, binThreshold } = args;
  const edges = options.edges[split.feature] as Float32Array;
  tree.feature[leaf.id] = split.feature;
  tree.threshold[leaf.id] = edges[split.bin] as number;
  tree.value[leaf.id] = 0;
  binThreshold[leaf.id] = split.bin;

  const middle = partition({ options, scratch, split, start: leaf.start, end: leaf.end });
  // Build the smaller child's histogram from its rows; the parent's becomes the larger child's.
  const small = new Float64Array(leaf.histogram.length);
  const leftIsSmall = middle - leaf.start <= leaf.end - middle;
  buildHistogram({
    options,
    histogram: small,
    start: leftIsSmall ? leaf.start : middle,
    end: leftIsSmall ? middle : leaf.end,
  });
  const large = leaf.histogram;
  for (let i = 0; i < large.length; i++) large[i] = (large[i] as number) - (small[i] as number);
  const depth = leaf.depth + 1;
  const left = addLeaf({
    start: leaf.start,
    end: middle,
    depth,
    histogram: leftIsSmall ? small : large,
    grad: split.gradLeft,
    hess: split.hessLeft,
  });
  const right = addLeaf({
    start: middle,
    end: leaf.end,
    depth,
    histogram: leftIsSmall ? large : small,
    grad: leaf.grad - split.gradLeft,
    hess: leaf.hess - split.hessLeft,
  });
  tree.left[leaf.id] = left.id;
  tree.right[leaf.id] = right.id;
  return [left, right];
}

function buildHistogram(args: { options: GrowTreeOptions; histogram: Float64Array; start: number; end: number }): void {
  const { options, histogram, start, end } = args;
  const { bins, numFeatures, gradients, hessians, rows } = options;
  const features = Int32Array.from(options.features);
  const numSelected = features.length;
  // Slot offset of each selected feature's bin 0, so the inner loop is one add per value.
  const offsets = features.map((f) => f * BIN_STRIDE * SLOT);
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const g = gradients[row] as number;
    const h = hessians[row] as number;
    const base = row * numFeatures;
    for (let j = 0; j < numSelected; j++) {
      const slot = (offsets[j] as number) + (bins[base + (features[j] as number)] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
    }
  }
}

function bestSplit(
  options: GrowTreeOptions,
  node: { histogram: Float64Array; grad: number; hess: number; start: number; end: number },
): Split | undefined {
  const { lambda, minChildWeight } = options;
  const { histogram, grad, hess } = node;
  const count = node.end - node.start;
  if (count < 2) return undefined;
  const parentScore = (grad * grad) / (hess + lambda);
  let best: Split | undefined;
  for (const f of options.features) {
    const numBins = (options.edges[f] as Float32Array).length + 1;
    let gradLeft = 0;
    let hessLeft = 0;
    let countLeft = 0;
    for (let b = 0; b + 1 < numBins; b++) {
      const slot = (f * BIN_STRIDE + b) * SLOT;
      gradLeft += histogram[slot] as number;
      hessLeft += histogram[slot + 1] as number;
      countLeft += histogram[slot + 2] as number;
      const countRight = count - countLeft;
      if (countLeft < 0.5) continue;
      if (countRight < 0.5) break;
      const hessRight = hess - hessLeft;
      if (hessLeft < minChildWeight || hessRight < minChildWeight) continue;
      const gradRight = grad - gradLeft;
      const gain =
        (gradLeft * gradLeft) / (hessLeft + lambda) + (gradRight * gradRight) / (hessRight + lambda) - parentScore;
      if (gain > 1e-12 && (best === undefined || gain > best.gain)) {
        best = { feature: f, bin: b, gain, gradLeft, hessLeft, countLeft };
      }
    }
  }
  return best;
}

/** Stable partition of `rows[start, end)` by the split; returns the first right-hand index. */
function partition(args: {
  options: GrowTreeOptions;
  scratch: Uint32Array;
  split: Split;
  start: number;
  end: number;
}): number {
  const { options, scratch, split, start, end } = args;
  const { rows, bins, numFeatures } = options;
  let left = start;
  let right = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    if ((bins[row * numFeatures + split.feature] as number) <= split.bin) rows[left++] = row;
    else scratch[right++] = row;
  }
  rows.set(scratch.subarray(0, right), left);
  return left;
}
