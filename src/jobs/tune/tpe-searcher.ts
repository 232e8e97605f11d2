/**
 * The tree-structured Parzen estimator (Bergstra et al. 2011, "Algorithms for hyper-parameter
 * optimization"), univariate with Optuna's defaults: the first `startupTrials` points are random;
 * then the finished trials are split into the best γ(n) = min(⌈0.1·n⌉, 25) ("below") and the rest,
 * each parameter gets a Parzen estimator per side — l(x) from the below, g(x) from the rest — and
 * the point is, per parameter, the candidate drawn from l that maximises l(x)/g(x).
 *
 * Numeric parameters: a mixture of Gaussians truncated to the range, one per observation plus a
 * prior (mean mid-range, σ = the range) with weight 1; each observation's σ is the larger distance
 * to its sorted neighbours, clipped to [range / min(100, 1 + n), range] (Optuna's magic clip).
 * `loguniform` is modelled in log space, `int` on [low − ½, high + ½] and rounded. Choices: the
 * counts of each value plus a prior of 1 spread evenly.
 */
import { mulberry32 } from '../../random/mulberry32.ts';
import { randomPoint, trialSeed } from './random-searcher.ts';
import type { Distribution, Point, SearchSpace } from './search-space.ts';
import { orderedParams } from './search-space.ts';
import type { Observation, Searcher } from './searcher.ts';

/** Options of {@link tpeSearcher}. */
export interface TpeOptions {
  readonly space: SearchSpace;
  readonly seed: number;
  /** Random trials before the model is used. @default 10 (Optuna) */
  readonly startupTrials: number;
  /** Candidates drawn from l(x) per parameter. @default 24 (Optuna) */
  readonly candidates: number;
}

const PRIOR_WEIGHT = 1;

/** Optuna's default γ: how many of the n finished trials count as good. */
export function belowCount(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** TPE over `space`. */
export function tpeSearcher(options: TpeOptions): Searcher {
  const { space, seed, startupTrials, candidates } = options;
  return {
    size: Infinity,
    suggest: ({ number, history }) => {
      const finite = history.filter((o) => Number.isFinite(o.loss));
      if (finite.length < startupTrials) return randomPoint({ space, seed, number });
      const sorted = [...finite].sort((a, b) => a.loss - b.loss);
      const n = belowCount(sorted.length);
      const below = sorted.slice(0, n);
      const above = sorted.slice(n);
      const random = mulberry32(trialSeed(seed, number));
      const point: Record<string, unknown> = {};
      for (const [path, distribution] of orderedParams(space)) {
        const values = (side: readonly Observation[]): unknown[] => side.map((o) => o.point[path]);
        point[path] = suggestOne({
          distribution,
          below: values(below),
          above: values(above),
          random,
          candidates,
        });
      }
      return point as Point;
    },
  };
}

function suggestOne(args: {
  distribution: Distribution;
  below: unknown[];
  above: unknown[];
  random: () => number;
  candidates: number;
}): unknown {
  const { distribution, random, candidates } = args;
  if ('choice' in distribution) {
    const keys = distribution.choice.map((v) => JSON.stringify(v));
    const l = categorical(keys, args.below);
    const g = categorical(keys, args.above);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < candidates; c++) {
      const k = drawIndex(l, random);
      const score = Math.log(l[k] as number) - Math.log(g[k] as number);
      if (score > bestScore) [best, bestScore] = [k, score];
    }
    return distribution.choice[best];
  }
  const { low, high, toInternal, fromInternal } = numericScale(distribution);
  const l = parzen({ observations: args.below.map((v) => toInternal(v as number)), low, high });
  const g = parzen({ observations: args.above.map((v) => toInternal(v as number)), low, high });
  let best = (low + high) / 2;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const x = sampleMixture(l, random);
    const score = logDensity(l, x) - logDensity(g, x);
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return fromInternal(best);
}

/** Where a numeric parameter is modelled: the range and the maps to and from it. */
function numericScale(distribution: Exclude<Distribution, { choice: unknown }>) {
  if ('int' in distribution) {
    const [a, b] = distribution.int;
    return {
      low: a - 0.5,
      high: b + 0.5,
      toInternal: (v: number) => v,
      fromInternal: (x: number) => Math.min(b, Math.max(a, Math.round(x))),
    };
  }
  if ('loguniform' in distribution) {
    const [a, b] = distribution.loguniform;
    return {
      low: Math.log(a),
      high: Math.log(b),
      toInternal: (v: number) => Math.log(v),
      fromInternal: (x: number) => Math.min(b, Math.max(a, Math.exp(x))),
    };
  }
  const [a, b] = distribution.uniform;
  return { low: a, high: b, toInternal: (v: number) => v, fromInternal: (x: number) => Math.min(b, Math.max(a, x)) };
}

/** Weights per choice: counts plus the prior spread evenly, normalised. */
function categorical(keys: readonly string[], values: readonly unknown[]): number[] {
  const weights = keys.map(() => PRIOR_WEIGHT / keys.length);
  for (const value of values) {
    const k = keys.indexOf(JSON.stringify(value));
    if (k >= 0) weights[k] = (weights[k] as number) + 1;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

function drawIndex(weights: readonly number[], random: () => number): number {
  let u = random();
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k] as number;
    if (u < 0) return k;
  }
  return weights.length - 1;
}

/** A mixture of Gaussians truncated to [low, high]. */
interface Mixture {
  readonly mus: readonly number[];
  readonly sigmas: readonly number[];
  readonly weights: readonly number[];
  readonly low: number;
  readonly high: number;
}

/** The Parzen estimator of `observations` on [low, high], with the prior as one more component. */
export function parzen(args: { observations: readonly number[]; low: number; high: number }): Mixture {
  const { low, high } = args;
  const width = high - low;
  const prior = (low + high) / 2;
  const mus = [...args.observations, prior].sort((a, b) => a - b);
  const priorIndex = mus.indexOf(prior);
  const sigmas = mus.map((mu, i) => {
    const left = i === 0 ? undefined : mu - (mus[i - 1] as number);
    const right = i === mus.length - 1 ? undefined : (mus[i + 1] as number) - mu;
    return Math.max(left ?? 0, right ?? 0);
  });
  const minSigma = width / Math.min(100, 1 + mus.length);
  const clipped = sigmas.map((s) => Math.min(width, Math.max(minSigma, s)));
  clipped[priorIndex] = width;
  const weights = mus.map((_, i) => (i === priorIndex ? PRIOR_WEIGHT : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  return { mus, sigmas: clipped, weights: weights.map((w) => w / total), low, high };
}

function sampleMixture(mixture: Mixture, random: () => number): number {
  const k = drawIndex(mixture.weights, random);
  const mu = mixture.mus[k] as number;
  const sigma = mixture.sigmas[k] as number;
  // Rejection from the normal: the truncation keeps at least the mass within one σ of μ ∈ [low, high].
  for (let tries = 0; tries < 100; tries++) {
    const x = mu + sigma * standardNormal(random);
    if (x >= mixture.low && x <= mixture.high) return x;
  }
  return Math.min(mixture.high, Math.max(mixture.low, mu));
}

/** log of the mixture's density at x. */
export function logDensity(mixture: Mixture, x: number): number {
  const terms = mixture.mus.map((mu, k) => {
    const sigma = mixture.sigmas[k] as number;
    const mass = normalCdf((mixture.high - mu) / sigma) - normalCdf((mixture.low - mu) / sigma);
    const z = (x - mu) / sigma;
    return Math.log(mixture.weights[k] as number) - 0.5 * z * z - Math.log(sigma * Math.sqrt(2 * Math.PI) * mass);
  });
  const top = Math.max(...terms);
  return top + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - top), 0));
}

function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Φ(z), through erf (Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
