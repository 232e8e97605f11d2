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
  const [grad, hess] = all ? addAllFeatures(options) : addSomeFeatures(options);
  const sparse = all ? layout.sparseFeatures : selectedOf(layout.sparseFeatures, features);
  if (sparse.length > 0) fillDefaultBins({ layout, sparse, histogram, totals: [grad, hess, end - start] });
  return [grad, hess];
}

/** The histogram loop when every feature is built (no column subsampling), the common case. */
function addAllFeatures(options: BuildHistogramOptions): [number, number] {
  const { layout, rows, start, end, gradHess, histogram } = options;
  const { lo, denseFeatures, denseBins, offsets, codes } = layout;
  const numDense = denseFeatures.length;
  const denseOffset = denseFeatures.map((f) => f * FEATURE_STRIDE);
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
    for (let j = 0; j < numDense; j++) {
      const slot = (denseOffset[j] as number) + (denseBins[base + j] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
    }
    const last = offsets[local + 1] as number;
    for (let k = offsets[local] as number; k < last; k++) {
      // A code is `feature * BIN_STRIDE + bin`, so times SLOT it is the histogram slot.
      const slot = (codes[k] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
    }
  }
  return [grad, hess];
}

/** The histogram loop over a subset of the features. */
function addSomeFeatures(options: BuildHistogramOptions): [number, number] {
  const { layout, rows, start, end, gradHess, features, histogram } = options;
  const { lo, denseFeatures, denseBins, sparseFeatures, defaultBin, offsets, codes } = layout;
  const numDense = denseFeatures.length;
  const selected = new Uint8Array(defaultBin.length);
  for (let j = 0; j < features.length; j++) selected[features[j] as number] = 1;
  // The dense features to build: their position in a packed row and their histogram offset.
  const position: number[] = [];
  const offset: number[] = [];
  for (let j = 0; j < numDense; j++) {
    const f = denseFeatures[j] as number;
    if (selected[f] === 1) {
      position.push(j);
      offset.push(f * FEATURE_STRIDE);
    }
  }
  const densePosition = Int32Array.from(position);
  const denseOffset = Int32Array.from(offset);
  const numBuilt = densePosition.length;
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
    for (let j = 0; j < numBuilt; j++) {
      const slot = (denseOffset[j] as number) + (denseBins[base + (densePosition[j] as number)] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
    }
    if (!hasSparse) continue;
    const last = offsets[local + 1] as number;
    for (let k = offsets[local] as number; k < last; k++) {
      const code = codes[k] as number;
      if (selected[code >>> 8] !== 1) continue;
      const slot = code * SLOT;
      histogram[slot] = (histogram[slot] as number) + g;
      histogram[slot + 1] = (histogram[slot + 1] as number) + h;
      histogram[slot + 2] = (histogram[slot + 2] as number) + 1;
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
  totals: [number, number, number];
}): void {
  const { layout, sparse, histogram } = args;
  const [grad, hess, count] = args.totals;
  for (let j = 0; j < sparse.length; j++) {
    const f = sparse[j] as number;
    const base = f * FEATURE_STRIDE;
    const end = base + (layout.binsSeen[f] as number) * SLOT;
    let g = 0;
    let h = 0;
    let c = 0;
    for (let slot = base; slot < end; slot += SLOT) {
      g += histogram[slot] as number;
      h += histogram[slot + 1] as number;
      c += histogram[slot + 2] as number;
    }
    const slot = base + (layout.defaultBin[f] as number) * SLOT;
    // No default rows is exactly zero, not the rounding residue of a subtraction.
    const rest = count - c;
    histogram[slot] = rest > 0 ? grad - g : 0;
    histogram[slot + 1] = rest > 0 ? hess - h : 0;
    histogram[slot + 2] = rest;
  }
}
