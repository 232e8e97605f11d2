/**
 * The two-sample statistics drift detection uses, as pure functions on sorted numbers or on
 * aligned counts: Kolmogorov–Smirnov, Wasserstein-1, chi-square goodness of fit, the two-proportion
 * z-test, the Jensen–Shannon distance and the population stability index. Each follows the SciPy
 * function Evidently calls (`ks_2samp`, `wasserstein_distance`, `chisquare`,
 * `scipy.spatial.distance.jensenshannon`) or Evidently's own formula (z, PSI); the committed
 * fixtures in test/drift/fixtures were computed by SciPy and checked against these.
 *
 * The `…Binned` variants take a reference known only as an equal-width histogram (a training
 * profile) and treat its values as spread uniformly inside each bin: its CDF is then piecewise
 * linear, and the sup (KS) or integral (Wasserstein) against the current sample's step CDF is
 * computed exactly for that CDF. See docs/ARCHITECTURE.md, "Drift", for how far that is from the
 * exact tests.
 */
import { chiSquareSurvival, kolmogorovSurvival, normalTwoSided } from './special-functions.ts';

/** A statistic and, for a hypothesis test, its p-value. */
export interface TestOutcome {
  readonly statistic: number;
  readonly pValue?: number;
}

/** A reference known by its histogram: `counts[i]` values in [edges[i], edges[i + 1]]. */
export interface Histogram {
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/**
 * The asymptotic two-sided p-value of a two-sample KS statistic: the Kolmogorov distribution at
 * (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = n·m/(n+m) (Stephens' small-sample correction). SciPy's `ks_2samp`
 * computes the exact distribution for small samples; the fixtures bound the difference.
 */
export function ksPValue(statistic: number, n: number, m: number): number {
  const en = (n * m) / (n + m);
  const root = Math.sqrt(en);
  return kolmogorovSurvival((root + 0.12 + 0.11 / root) * statistic);
}

/** Two-sample Kolmogorov–Smirnov on two ascending samples (`scipy.stats.ks_2samp`, two-sided). */
export function ksTwoSample(reference: Float64Array, current: Float64Array): TestOutcome {
  const n = reference.length;
  const m = current.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const a = reference[i] as number;
    const b = current[j] as number;
    const x = a <= b ? a : b;
    while (i < n && (reference[i] as number) === x) i++;
    while (j < m && (current[j] as number) === x) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }
  return { statistic: d, pValue: ksPValue(d, n, m) };
}

/** The piecewise-linear CDF of a histogram (uniform within bins), and the values it holds. */
function histogramCdf(histogram: Histogram): { cdf: (x: number) => number; total: number } {
  const { edges, counts } = histogram;
  const cumulative = new Float64Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) cumulative[i + 1] = (cumulative[i] as number) + (counts[i] as number);
  const total = cumulative[counts.length] as number;
  const first = edges[0] as number;
  const last = edges[edges.length - 1] as number;
  const cdf = (x: number): number => {
    if (x < first) return 0;
    if (x >= last) return 1;
    let lo = 0;
    let hi = edges.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((edges[mid] as number) <= x) lo = mid;
      else hi = mid;
    }
    const left = edges[lo] as number;
    const width = (edges[lo + 1] as number) - left;
    const inside = width > 0 ? ((x - left) / width) * (counts[lo] as number) : (counts[lo] as number);
    return ((cumulative[lo] as number) + inside) / total;
  };
  return { cdf, total };
}

/** The sorted distinct breakpoints of a piecewise comparison: histogram edges and sample values. */
function breakpoints(edges: readonly number[], sample: Float64Array): Float64Array {
  const points = new Float64Array(edges.length + sample.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < edges.length || j < sample.length) {
    const e = i < edges.length ? (edges[i] as number) : Infinity;
    const s = j < sample.length ? (sample[j] as number) : Infinity;
    const x = e <= s ? e : s;
    if (e === x) i++;
    else j++;
    if (k === 0 || points[k - 1] !== x) points[k++] = x;
  }
  return points.subarray(0, k);
}

/**
 * KS between a histogram reference (`rows` values) and an ascending current sample. Between
 * breakpoints the reference CDF is linear and the current one constant, so the sup is at a
 * breakpoint, from the left or the right.
 */
export function ksBinned(reference: Histogram, current: Float64Array): TestOutcome {
  const { cdf, total } = histogramCdf(reference);
  const m = current.length;
  let d = 0;
  let j = 0;
  for (const x of breakpoints(reference.edges, current)) {
    const below = j / m;
    while (j < m && (current[j] as number) <= x) j++;
    const r = cdf(x);
    d = Math.max(d, Math.abs(r - below), Math.abs(r - j / m));
  }
  return { statistic: d, pValue: ksPValue(d, total, m) };
}

/** Wasserstein-1 distance between two ascending samples (`scipy.stats.wasserstein_distance`). */
export function wassersteinSamples(reference: Float64Array, current: Float64Array): number {
  const n = reference.length;
  const m = current.length;
  let i = 0;
  let j = 0;
  let area = 0;
  let previous = Math.min(reference[0] as number, current[0] as number);
  while (i < n || j < m) {
    const a = i < n ? (reference[i] as number) : Infinity;
    const b = j < m ? (current[j] as number) : Infinity;
    const x = a <= b ? a : b;
    area += Math.abs(i / n - j / m) * (x - previous);
    previous = x;
    while (i < n && (reference[i] as number) === x) i++;
    while (j < m && (current[j] as number) === x) j++;
  }
  return area;
}

/** ∫ₐᵇ |r(x) − c| dx for r linear from ra to rb. */
function linearGapArea(options: { ra: number; rb: number; c: number; width: number }): number {
  const u = options.ra - options.c;
  const v = options.rb - options.c;
  if (u * v >= 0) return ((Math.abs(u) + Math.abs(v)) / 2) * options.width;
  return (options.width * (u * u + v * v)) / (2 * (Math.abs(u) + Math.abs(v)));
}

/** Wasserstein-1 distance between a histogram reference (uniform within bins) and an ascending sample. */
export function wassersteinBinned(reference: Histogram, current: Float64Array): number {
  const { cdf } = histogramCdf(reference);
  const m = current.length;
  let j = 0;
  let area = 0;
  let previous: number | undefined;
  let previousRef = 0;
  let level = 0;
  for (const x of breakpoints(reference.edges, current)) {
    const r = cdf(x);
    if (previous !== undefined) area += linearGapArea({ ra: previousRef, rb: r, c: level, width: x - previous });
    while (j < m && (current[j] as number) <= x) j++;
    level = j / m;
    previous = x;
    previousRef = r;
  }
  return area;
}

/** Population standard deviation (`np.std`). */
export function standardDeviation(values: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += ((values[i] as number) - mean) / (i + 1);
  let sum = 0;
  for (const v of values) sum += (v - mean) * (v - mean);
  return Math.sqrt(sum / values.length);
}

/**
 * Chi-square goodness of fit of the current counts against the reference proportions scaled to
 * the current total (Evidently's `chisquare` test: `scipy.stats.chisquare(f_obs, f_exp)`, k − 1
 * degrees of freedom). A category the reference never saw makes the statistic infinite and the
 * p-value 0.
 */
export function chiSquare(reference: readonly number[], current: readonly number[]): TestOutcome {
  const n = reference.reduce((a, b) => a + b, 0);
  const m = current.reduce((a, b) => a + b, 0);
  let statistic = 0;
  for (let k = 0; k < reference.length; k++) {
    const expected = ((reference[k] as number) * m) / n;
    const observed = current[k] as number;
    if (expected === 0) {
      if (observed > 0) statistic = Infinity;
      continue;
    }
    statistic += ((observed - expected) * (observed - expected)) / expected;
  }
  const df = reference.length - 1;
  if (df < 1) return { statistic: 0, pValue: 1 };
  return { statistic, pValue: chiSquareSurvival(statistic, df) };
}

/**
 * Two-proportion z-test with a pooled proportion (Evidently's `z` test): `first` is how many of
 * each sample are the first category (in sorted order), the rest are the other one.
 */
export function twoProportionZ(options: {
  referenceFirst: number;
  referenceRows: number;
  currentFirst: number;
  currentRows: number;
}): TestOutcome {
  const { referenceRows: n1, currentRows: n2 } = options;
  const p1 = (n1 - options.referenceFirst) / n1;
  const p2 = (n2 - options.currentFirst) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const scale = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (scale === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / scale;
  return { statistic: z, pValue: normalTwoSided(z) };
}

function normalise(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** Jensen–Shannon distance, natural logarithm (`scipy.spatial.distance.jensenshannon(p, q)`). */
export function jensenShannon(reference: readonly number[], current: readonly number[]): number {
  const p = normalise(reference);
  const q = normalise(current);
  let divergence = 0;
  for (let k = 0; k < p.length; k++) {
    const a = p[k] as number;
    const b = q[k] as number;
    const mid = (a + b) / 2;
    if (a > 0) divergence += a * Math.log(a / mid);
    if (b > 0) divergence += b * Math.log(b / mid);
  }
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * Empty bins get a small share so that the logarithm is defined, as Evidently does: a millionth
 * of the smallest non-empty share when that is at most 1e-4, else 1e-4.
 */
function fillZeroes(shares: number[]): number[] {
  const positive = shares.filter((s) => s > 0);
  if (positive.length === 0) return shares;
  const smallest = Math.min(...positive);
  const fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? fill : s));
}

/** Population stability index Σ (r − c) ln(r / c) over shares with empty bins filled. */
export function populationStability(reference: readonly number[], current: readonly number[]): number {
  const r = fillZeroes(normalise(reference));
  const c = fillZeroes(normalise(current));
  let psi = 0;
  for (let k = 0; k < r.length; k++)
    psi += ((r[k] as number) - (c[k] as number)) * Math.log((r[k] as number) / (c[k] as number));
  return psi;
}

/**
 * `np.histogram_bin_edges(values, bins='sturges')` for the ascending union of two samples: ⌈log₂ n + 1⌉
 * equal-width bins over [min, max] (±0.5 around a single value).
 */
export function sturgesEdges(options: { min: number; max: number; size: number }): number[] {
  let { min, max } = options;
  if (min === max) {
    min -= 0.5;
    max += 0.5;
    return [min, max];
  }
  const range = max - min;
  const width = range / (Math.log2(options.size) + 1);
  const bins = Math.max(1, Math.ceil(range / width));
  const step = range / bins;
  const edges: number[] = [];
  for (let i = 0; i < bins; i++) edges.push(i * step + min);
  edges.push(max);
  return edges;
}

/** Counts of an ascending sample in bins [e₀, e₁), …, [eₖ₋₁, eₖ] (`np.histogram`); values outside are not counted. */
export function binCounts(edges: readonly number[], sorted: Float64Array): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  let bin = 0;
  const last = edges.length - 2;
  for (const x of sorted) {
    if (x < (edges[0] as number) || x > (edges[edges.length - 1] as number)) continue;
    while (bin < last && x >= (edges[bin + 1] as number)) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}
