/**
 * A node's histogram over one shard's rows, from the shard's {@link ShardLayout}: dense features
 * bin by bin as stored, sparse features from each row's non-default entries, and then each sparse
 * feature's default bin as the node's totals minus its other bins. Sums over rows run in row
 * order, so a non-default bin gets exactly the value the dense layout would give it; a default bin
 * (found by subtraction) may differ from it in the last bits.
 */
import { FEATURE_STRIDE, SLOT } from './histogram-slots.ts';
import type { ShardLayout } from './shard-layout.ts';

/** Options for {@link buildHistogram}. */
export interface BuildHistogramOptions {
  readonly layout: ShardLayout;
  /** Row ids; the node's are `rows[start, end)`, all in the shard. */
  readonly rows: Uint32Array;
  readonly start: number;
  readonly end: number;
  /** Gradient and hessian per row, interleaved. */
  readonly gradHess: Float64Array;
  /** Features to build, ascending. */
  readonly features: Int32Array;
  /** Adds into this histogram, which must be zero over the features' bins. */
  readonly histogram: Float64Array;
}

/** Adds the node's histogram into `histogram`; returns the node's gradient and hessian sums. */
export function buildHistogram(options: BuildHistogramOptions): [number, number] {
  const { layout, start, end, features, histogram } = options;
  const all = features.length === layout.defaultBin.length;
  // Non-default entries per feature in the node: a sparse feature's default bin holds the rest.
  const entries = new Int32Array(layout.defaultBin.length);
  const [grad, hess] = all ? addAllFeatures(options, entries) : addSomeFeatures(options, entries);
  const sparse = all ? layout.sparseFeatures : selectedOf(layout.sparseFeatures, features);
  if (sparse.length > 0) {
    fillDefaultBins({ layout, sparse, histogram, entries, totals: { grad, hess, rows: end - start } });
  }
  return [grad, hess];
}

// A code is `feature * BIN_STRIDE + bin`, so times SLOT it is the histogram slot.
// The dense loops below add four features per step: their slots never coincide, so the CPU
// overlaps the four read-modify-writes (about twice the speed of one feature per step in V8).
// Each slot still sums its rows in row order, so the result is the same as a step of one.

/** The histogram loop when every feature is built (no column subsampling), the common case. */
function addAllFeatures(options: BuildHistogramOptions, entries: Int32Array): [number, number] {
  const { layout, rows, start, end, gradHess, histogram } = options;
  const { lo, denseFeatures, denseCodes, offsets, codes } = layout;
  const numDense = denseFeatures.length;
  const stepped = numDense - (numDense % 4);
  const hasSparse = layout.sparseFeatures.length > 0;
  let grad = 0;
  let hess = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const g = gradHess[2 * row] as number;
    const h = gradHess[2 * row + 1] as number;
    grad += g;
    hess += h;
    const local = row - lo;
    const base = local * numDense;
    let j = 0;
    for (; j < stepped; j += 4) {
      const s0 = (denseCodes[base + j] as number) * SLOT;
      const s1 = (denseCodes[base + j + 1] as number) * SLOT;
      const s2 = (denseCodes[base + j + 2] as number) * SLOT;
      const s3 = (denseCodes[base + j + 3] as number) * SLOT;
      histogram[s0] = (histogram[s0] as number) + g;
      histogram[s0 + 1] = (histogram[s0 + 1] as number) + h;
      histogram[s1] = (histogram[s1] as number) + g;
      histogram[s1 + 1] = (histogram[s1 + 1] as number) + h;
      histogram[s2] = (histogram[s2] as number) + g;
      histogram[s2 + 1] = (histogram[s2 + 1] as number) + h;
      histogram[s3] = (histogram[s3] as number) + g;
      histogram[s3 + 1] = (histogram[s3 + 1] as number) + h;
    }
    for (; j < numDense; j++) {
      const slot = (denseCodes[base + j] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
    }
    if (!hasSparse) continue;
    const last = offsets[local + 1] as number;
    for (let k = offsets[local] as number; k < last; k++) {
      const code = codes[k] as number;
      const slot = code * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      entries[code >>> 8] = (entries[code >>> 8] as number) + 1;
    }
  }
  return [grad, hess];
}

/** The histogram loop over a subset of the features. */
function addSomeFeatures(options: BuildHistogramOptions, entries: Int32Array): [number, number] {
  const { layout, rows, start, end, gradHess, features, histogram } = options;
  const { lo, denseFeatures, denseCodes, sparseFeatures, defaultBin, offsets, codes } = layout;
  const numDense = denseFeatures.length;
  const selected = new Uint8Array(defaultBin.length);
  for (let j = 0; j < features.length; j++) selected[features[j] as number] = 1;
  // The dense features to build, by their position in a packed row.
  const position: number[] = [];
  for (let j = 0; j < numDense; j++) if (selected[denseFeatures[j] as number] === 1) position.push(j);
  const densePosition = Int32Array.from(position);
  const numBuilt = densePosition.length;
  const stepped = numBuilt - (numBuilt % 4);
  const hasSparse = sparseFeatures.some((f) => selected[f] === 1);

  let grad = 0;
  let hess = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const g = gradHess[2 * row] as number;
    const h = gradHess[2 * row + 1] as number;
    grad += g;
    hess += h;
    const local = row - lo;
    const base = local * numDense;
    let j = 0;
    for (; j < stepped; j += 4) {
      const s0 = (denseCodes[base + (densePosition[j] as number)] as number) * SLOT;
      const s1 = (denseCodes[base + (densePosition[j + 1] as number)] as number) * SLOT;
      const s2 = (denseCodes[base + (densePosition[j + 2] as number)] as number) * SLOT;
      const s3 = (denseCodes[base + (densePosition[j + 3] as number)] as number) * SLOT;
      histogram[s0] = (histogram[s0] as number) + g;
      histogram[s0 + 1] = (histogram[s0 + 1] as number) + h;
      histogram[s1] = (histogram[s1] as number) + g;
      histogram[s1 + 1] = (histogram[s1 + 1] as number) + h;
      histogram[s2] = (histogram[s2] as number) + g;
      histogram[s2 + 1] = (histogram[s2 + 1] as number) + h;
      histogram[s3] = (histogram[s3] as number) + g;
      histogram[s3 + 1] = (histogram[s3 + 1] as number) + h;
    }
    for (; j < numBuilt; j++) {
      const slot = (denseCodes[base + (densePosition[j] as number)] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
    }
    if (!hasSparse) continue;
    const last = offsets[local + 1] as number;
    for (let k = offsets[local] as number; k < last; k++) {
      const code = codes[k] as number;
      if (selected[code >>> 8] !== 1) continue;
      const slot = code * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      entries[code >>> 8] = (entries[code >>> 8] as number) + 1;
    }
  }
  return [grad, hess];
}

/** The members of ascending `features` that ascending `selected` has too. */
function selectedOf(features: Int32Array, selected: Int32Array): Int32Array {
  const out: number[] = [];
  let j = 0;
  for (const f of features) {
    while (j < selected.length && (selected[j] as number) < f) j++;
    if (selected[j] === f) out.push(f);
  }
  return Int32Array.from(out);
}

/** Sets each sparse feature's default bin to the node's totals minus the feature's other bins. */
function fillDefaultBins(args: {
  layout: ShardLayout;
  sparse: Int32Array;
  histogram: Float64Array;
  /** Non-default entries per feature in the node. */
  entries: Int32Array;
  totals: { grad: number; hess: number; rows: number };
}): void {
  const { layout, sparse, histogram, entries, totals } = args;
  for (let j = 0; j < sparse.length; j++) {
    const f = sparse[j] as number;
    const base = f * FEATURE_STRIDE;
    const slot = base + (layout.defaultBin[f] as number) * SLOT;
    // No default rows is exactly zero, not the rounding residue of a subtraction.
    if ((entries[f] as number) === totals.rows) {
      histogram[slot] = 0;
      histogram[slot + 1] = 0;
      continue;
    }
    const end = base + (layout.binsSeen[f] as number) * SLOT;
    let g = 0;
    let h = 0;
    for (let s = base; s < end; s += SLOT) {
      g += histogram[s] as number;
      h += histogram[s + 1] as number;
    }
    histogram[slot] = totals.grad - g;
    histogram[slot + 1] = totals.hess - h;
  }
}
