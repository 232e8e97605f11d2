/**
 * The statistics a canary verdict rests on, as pure functions: a one-sided Mann–Whitney U test
 * (is the canary slower?) with the Hodges–Lehmann shift as its effect size, a one-sided comparison
 * of two error proportions (two-proportion z-test, or Fisher's exact test when counts are small),
 * and an exact binomial tail for a rate against a fixed limit.
 *
 * Rank tests rather than percentiles: with a hundred requests a p99 is the slowest request, and
 * one garbage-collection pause decides it; a rank test weighs every request once (Kayenta judges
 * canaries the same way).
 */
import { erfc } from '../util/erfc.ts';

/** Result of {@link mannWhitneyGreater}. */
export interface MannWhitneyResult {
  /** U of the first sample: pairs where it is larger, ties counting one half. */
  readonly u: number;
  /** Normal approximation of U, tie-corrected, with continuity correction. */
  readonly z: number;
  /** One-sided p-value: the chance of a U this large if neither sample tends to be larger. */
  readonly pValue: number;
}

/**
 * One-sided Mann–Whitney U test that `x` tends to be larger than `y` (for latencies: slower),
 * by the normal approximation with tie correction and continuity correction — the samples here
 * are tens of values or more. Equal to SciPy's
 * `mannwhitneyu(x, y, alternative='greater', method='asymptotic')`.
 */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyGreater needs two non-empty samples');
  const xs = Float64Array.from(x).sort();
  const ys = Float64Array.from(y).sort();
  const n = n1 + n2;
  let rankSumX = 0;
  let tieTerm = 0;
  let ranked = 0;
  // Merge the two sorted samples; tied values share the mean of the ranks they span (1-based).
  for (let i = 0, j = 0; i < n1 || j < n2;) {
    const value = Math.min(i < n1 ? at(xs, i) : Infinity, j < n2 ? at(ys, j) : Infinity);
    let fromX = 0;
    for (; i < n1 && at(xs, i) === value; i++) fromX++;
    let fromY = 0;
    for (; j < n2 && at(ys, j) === value; j++) fromY++;
    const t = fromX + fromY;
    rankSumX += fromX * (ranked + (t + 1) / 2);
    tieTerm += t * t * t - t;
    ranked += t;
  }
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u, z: 0, pValue: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, z, pValue: normalUpperTail(z) };
}

/**
 * The Hodges–Lehmann estimate of how much `x` is shifted above `y`: the median of every
 * difference `x[i] − y[j]`. Robust like a median (a few outliers move it little), it is the
 * effect size that goes with the Mann–Whitney test. Computed without listing the n₁·n₂
 * differences: bisection on the value, with a linear count of the differences below it, narrows
 * the range until the few differences left in it can be listed.
 */
export function hodgesLehmannShift(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) throw new RangeError('hodgesLehmannShift needs two non-empty samples');
  const xs = Float64Array.from(x).sort();
  const ys = Float64Array.from(y).sort();
  const pairs = xs.length * ys.length;
  const k = Math.floor((pairs + 1) / 2);
  const lower = kthDifference(xs, ys, k);
  return pairs % 2 === 1 ? lower : (lower + kthDifference(xs, ys, k + 1)) / 2;
}

/** The k-th smallest (1-based) of the differences `xs[i] − ys[j]` of two ascending arrays. */
function kthDifference(xs: Float64Array, ys: Float64Array, k: number): number {
  let lo = at(xs, 0) - at(ys, ys.length - 1);
  let hi = at(xs, xs.length - 1) - at(ys, 0);
  let below = countAtMost(xs, ys, lo);
  if (below >= k) return lo;
  // Invariant: `below` (< k) differences are ≤ lo, at least k are ≤ hi. Narrow until the
  // differences in (lo, hi] are few enough to list, then pick the k-th among them.
  let within = countAtMost(xs, ys, hi) - below;
  while (within > xs.length + ys.length) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    const count = countAtMost(xs, ys, mid);
    if (count >= k) {
      hi = mid;
      within = count - below;
    } else {
      lo = mid;
      within -= count - below;
      below = count;
    }
  }
  return differencesBetween(xs, ys, { lo, hi }).sort()[k - below - 1] ?? hi;
}

/** Every difference `xs[i] − ys[j]` in (lo, hi]. */
function differencesBetween(xs: Float64Array, ys: Float64Array, range: { lo: number; hi: number }): Float64Array {
  const found: number[] = [];
  // For ascending x, the ys with lo < x − y ≤ hi are those in [x − hi, x − lo): a window that slides right.
  let from = 0;
  let to = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = at(xs, i);
    while (from < ys.length && at(ys, from) < x - range.hi) from++;
    while (to < ys.length && at(ys, to) < x - range.lo) to++;
    for (let j = from; j < to; j++) found.push(x - at(ys, j));
  }
  return Float64Array.from(found);
}

/** How many differences `xs[i] − ys[j]` are ≤ d (two pointers: O(n₁ + n₂)). */
function countAtMost(xs: Float64Array, ys: Float64Array, d: number): number {
  let count = 0;
  // x − y ≤ d holds for the ys ≥ x − d: a suffix of ys that only shrinks as x grows.
  let start = 0;
  for (let i = 0; i < xs.length; i++) {
    const threshold = at(xs, i) - d;
    while (start < ys.length && at(ys, start) < threshold) start++;
    count += ys.length - start;
  }
  return count;
}

/** The median of a sample (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty sample');
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? at(sorted, mid) : (at(sorted, mid - 1) + at(sorted, mid)) / 2;
}

/** Result of {@link proportionGreater}. */
export interface ProportionResult {
  /** Fisher's exact test when an expected count is under 5, else the two-proportion z-test. */
  readonly test: 'fisher' | 'z';
  /** The z statistic (z-test only). */
  readonly z?: number;
  /** One-sided p-value: the chance of a difference this large if both rates were equal. */
  readonly pValue: number;
}

/** Least expected count in any cell of the 2×2 table for the normal approximation to hold. */
const MIN_EXPECTED_COUNT = 5;

/**
 * One-sided test that the first proportion (`x1` of `n1`, e.g. canary errors) is larger than the
 * second (`x2` of `n2`). With few events — the usual case for errors — the normal approximation
 * is poor, so Fisher's exact test is used (SciPy `fisher_exact(..., alternative='greater')`);
 * otherwise the pooled two-proportion z-test.
 */
export function proportionGreater(options: { x1: number; n1: number; x2: number; n2: number }): ProportionResult {
  const { x1, n1, x2, n2 } = options;
  if (n1 <= 0 || n2 <= 0) throw new RangeError('proportionGreater needs two non-empty samples');
  const pooled = (x1 + x2) / (n1 + n2);
  const expected = Math.min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled));
  if (expected < MIN_EXPECTED_COUNT) {
    return {
      test: 'fisher',
      pValue: hypergeometricUpperTail({ k: x1, population: n1 + n2, successes: x1 + x2, draws: n1 }),
    };
  }
  const z = (x1 / n1 - x2 / n2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { test: 'z', z, pValue: normalUpperTail(z) };
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p): how likely `k` or more events in `n` trials are if the rate
 * were `p`. Exact, summed in log space from the tail's end that converges.
 */
export function binomialUpperTail(options: { k: number; n: number; p: number }): number {
  const { k, n, p } = options;
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logPmf = (i: number): number => logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p);
  return upperTail({ k, lowest: 0, highest: n, mode: Math.floor((n + 1) * p), logPmf });
}

/**
 * P(X ≥ k) for X hypergeometric: `draws` taken without replacement from `population` items of
 * which `successes` are marked. Fisher's one-sided exact test of a 2×2 table is this tail.
 */
export function hypergeometricUpperTail(options: {
  k: number;
  population: number;
  successes: number;
  draws: number;
}): number {
  const { k, population, successes, draws } = options;
  const lowest = Math.max(0, draws - (population - successes));
  const highest = Math.min(successes, draws);
  if (k <= lowest) return 1;
  if (k > highest) return 0;
  const logTotal = logChoose(population, draws);
  const logPmf = (i: number): number =>
    logChoose(successes, i) + logChoose(population - successes, draws - i) - logTotal;
  const mode = Math.floor(((draws + 1) * (successes + 1)) / (population + 2));
  return upperTail({ k, lowest, highest, mode: Math.min(highest, Math.max(lowest, mode)), logPmf });
}

/**
 * Sums a unimodal discrete distribution's upper tail from `k`: directly when `k` is past the mode
 * (terms only shrink), else as one minus the lower part (whose terms shrink going down). Terms
 * too small to change the sum end the loop, so a tail over millions of trials costs a few
 * hundred terms.
 */
function upperTail(options: {
  k: number;
  lowest: number;
  highest: number;
  mode: number;
  logPmf: (i: number) => number;
}): number {
  const { k, lowest, highest, mode, logPmf } = options;
  const sumFrom = (from: number, step: 1 | -1, until: number): number => {
    let sum = 0;
    for (let i = from; step === 1 ? i <= until : i >= until; i += step) {
      const term = Math.exp(logPmf(i));
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return sum;
  };
  if (k > mode) return Math.min(1, sumFrom(k, 1, highest));
  return Math.max(0, 1 - sumFrom(k - 1, -1, lowest));
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** log C(n, k). */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0] ?? 1;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] ?? 0) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

function at(values: Float64Array, index: number): number {
  return values[index] ?? NaN;
}
