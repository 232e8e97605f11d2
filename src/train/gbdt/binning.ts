/**
 * Quantile binning for histogram-based tree learning. Each feature gets at most `maxBins - 1`
 * ascending float32 edges; a value's bin is the first edge it is `<=` (or the last bin). Because
 * edges are float32 and the data is float32, "bin <= b" is exactly "x <= edges[b]", so a split
 * found on bins exports as a `BRANCH_LEQ` threshold with no rounding gap.
 *
 * Missing values are not supported yet: NaN features are rejected with BAD_REQUEST.
 */
import { StratumError } from '../../errors/index.ts';

/** Largest number of bins per feature, so bin indices fit a `Uint8Array`. */
export const MAX_BINS = 255;

/** Options for {@link computeBinEdges}. */
export interface BinEdgesOptions {
  /** Row-major `numRows × numFeatures` matrix. */
  readonly features: Float32Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** Bins per feature, 2 to 255. @default 255 */
  readonly maxBins?: number;
}

/**
 * Computes per-feature quantile bin edges (ascending float32 values, at most `maxBins - 1` each).
 * Every edge lies halfway between two neighbouring distinct training values: one between each
 * pair when a feature has fewer distinct values than bins, else after each quantile.
 *
 * @example
 * ```ts
 * const edges = computeBinEdges({ features, numFeatures: 20 })
 * const bins = applyBins({ features, numFeatures: 20, edges })
 * ```
 */
export function computeBinEdges(options: BinEdgesOptions): Float32Array[] {
  const { features, numFeatures } = options;
  const maxBins = options.maxBins ?? MAX_BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new StratumError('BAD_REQUEST', `maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  checkFeatures({ features, numFeatures, name: 'features' });
  const numRows = features.length / numFeatures;
  const column = new Float32Array(numRows);
  const edges: Float32Array[] = [];
  for (let f = 0; f < numFeatures; f++) {
    for (let i = 0; i < numRows; i++) column[i] = features[i * numFeatures + f] as number;
    column.sort();
    edges.push(edgesOfSorted(column, maxBins));
  }
  return edges;
}

/** Options for {@link applyBins}. */
export interface ApplyBinsOptions {
  /** Row-major `numRows × numFeatures` matrix. */
  readonly features: Float32Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** Edges from {@link computeBinEdges}. */
  readonly edges: readonly Float32Array[];
}

/** Maps every value to its bin index; the result is row-major like the input. */
export function applyBins(options: ApplyBinsOptions): Uint8Array {
  const { features, numFeatures, edges } = options;
  const bins = new Uint8Array(features.length);
  for (let f = 0; f < numFeatures; f++) {
    const featureEdges = edges[f] as Float32Array;
    for (let i = f; i < features.length; i += numFeatures) {
      bins[i] = binOf(featureEdges, features[i] as number);
    }
  }
  return bins;
}

/** Throws BAD_REQUEST unless `features` is a non-empty `N × numFeatures` matrix without NaN. */
export function checkFeatures(options: { features: Float32Array; numFeatures: number; name: string }): void {
  const { features, numFeatures, name } = options;
  if (!Number.isInteger(numFeatures) || numFeatures < 1) {
    throw new StratumError('BAD_REQUEST', `numFeatures must be an integer >= 1, got ${numFeatures}`);
  }
  if (features.length === 0 || features.length % numFeatures !== 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `${name}: length ${features.length} is not a non-zero multiple of numFeatures (${numFeatures})`,
      { details: { length: features.length, numFeatures } },
    );
  }
  const bad = features.findIndex(Number.isNaN);
  if (bad >= 0) {
    const row = Math.floor(bad / numFeatures);
    const column = bad % numFeatures;
    throw new StratumError(
      'BAD_REQUEST',
      `${name}: row ${row}, feature ${column} is NaN; missing values are not supported yet, impute them first`,
      { details: { row, feature: column } },
    );
  }
}

/** First bin whose edge is >= value (binary search), or the last bin. */
function binOf(edges: Float32Array, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= (edges[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function edgesOfSorted(sorted: Float32Array, maxBins: number): Float32Array {
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const value = sorted[i] as number;
    if (i === 0 || value !== sorted[i - 1]) distinct.push(value);
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    // Midpoints (rounded to float32) keep unseen values between two training values balanced.
    for (let i = 0; i + 1 < distinct.length; i++) {
      edges.push(midpoint(distinct[i] as number, distinct[i + 1] as number));
    }
  } else {
    const n = sorted.length;
    const last = sorted[n - 1] as number;
    let previous = Number.NEGATIVE_INFINITY;
    for (let k = 1; k < maxBins; k++) {
      const value = sorted[Math.min(n - 1, Math.floor((k * n) / maxBins))] as number;
      if (value === last || value === previous) continue;
      previous = value;
      // Halfway to the next distinct value rather than the value itself: a feature that another
      // engine computes one ulp away (L2-normalised text in onnxruntime) must not change branch.
      edges.push(midpoint(value, sorted[firstAbove(sorted, value)] as number));
    }
  }
  return Float32Array.from(edges);
}

/** A float32 in `[a, b)`, so `a` and everything below it fall left and `b` falls right. */
/** Index of the first element of `sorted` greater than `value` (which must be below its last element). */
function firstAbove(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function midpoint(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a;
  const mid = Math.fround(a + (b - a) / 2);
  return mid >= b ? a : mid;
}
