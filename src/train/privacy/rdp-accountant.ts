/**
 * The privacy a DP-SGD run spent: the Rényi-DP accountant of the Poisson-subsampled Gaussian
 * mechanism (Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian
 * Mechanism"), the bound TF Privacy's `compute_rdp` computes, composed over the steps and turned
 * into (ε, δ) by `get_privacy_spent`'s conversion (Balle et al. 2020, Prop. 12). Integer orders
 * use the exact binomial expansion (§3.3 of the paper); fractional orders the two-sided series
 * with erfc tails (§3.4). Everything is in log space, so no term overflows at order 256.
 */
import { logErfc } from '../../util/erfc.ts';

/**
 * The RDP orders ε is minimised over (TF Privacy's default list).
 * @default 1.25 … 4.5, 5 … 63, 128, 256, 512
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 59 }, (_, i) => i + 5),
  128,
  256,
  512,
]);

/** What a subsampled Gaussian mechanism ran. */
export interface SampledGaussian {
  /** Probability that a row is in a step's batch (Poisson sampling): expected batch / rows. */
  readonly samplingRate: number;
  /** σ: noise standard deviation over the clipping norm. */
  readonly noiseMultiplier: number;
  /** Steps (noisy gradient releases) composed. */
  readonly steps: number;
}

/** ε at a δ, with the order that gave it. */
export interface PrivacySpent {
  readonly epsilon: number;
  readonly delta: number;
  /** The RDP order at which the bound was tightest. */
  readonly order: number;
}

/**
 * RDP of the composed mechanism at each order (TF Privacy's `compute_rdp`).
 *
 * @example
 * ```ts
 * rdpOfSampledGaussian({ samplingRate: 256 / 60000, noiseMultiplier: 1.1, steps: 14063 }, [2, 8, 32])
 * ```
 */
export function rdpOfSampledGaussian(mechanism: SampledGaussian, orders: readonly number[]): number[] {
  return orders.map((order) => rdpOneStep(mechanism.samplingRate, mechanism.noiseMultiplier, order) * mechanism.steps);
}

/**
 * The smallest ε over `orders` such that the run is (ε, δ)-DP (TF Privacy's `get_privacy_spent`),
 * with the conversion `ε = rdp − (ln δ + ln α)/(α − 1) + ln((α − 1)/α)`.
 */
export function privacySpent(args: {
  readonly orders: readonly number[];
  readonly rdp: readonly number[];
  readonly delta: number;
  /**
   * 'improved' (the default, Balle et al. 2020) or 'classic' (`ε = rdp − ln δ/(α − 1)`, Mironov
   * 2017 Prop. 3, what TF Privacy used until 2020 and what its published MNIST figures were made with).
   * @default 'improved'
   */
  readonly conversion?: 'improved' | 'classic';
}): PrivacySpent {
  const { orders, rdp, delta } = args;
  let best: PrivacySpent = { epsilon: Infinity, delta, order: NaN };
  for (const [i, order] of orders.entries()) {
    const r = rdp[i] as number;
    if (order <= 1 || !Number.isFinite(r)) continue;
    const epsilon =
      args.conversion === 'classic'
        ? r - Math.log(delta) / (order - 1)
        : r - (Math.log(delta) + Math.log(order)) / (order - 1) + Math.log((order - 1) / order);
    if (epsilon < best.epsilon) best = { epsilon: Math.max(0, epsilon), delta, order };
  }
  return best;
}

/**
 * ε of a DP-SGD run at δ, over {@link DEFAULT_RDP_ORDERS}.
 *
 * @example
 * ```ts
 * // TF Privacy's MNIST tutorial: 60 epochs of batch 256 over 60000 rows at σ = 1.1
 * dpSgdEpsilon({ samplingRate: 256 / 60000, noiseMultiplier: 1.1, steps: 14063, delta: 1e-5 }).epsilon // ≈ 2.9
 * ```
 */
export function dpSgdEpsilon(args: SampledGaussian & { readonly delta: number }): PrivacySpent {
  const orders = DEFAULT_RDP_ORDERS;
  return privacySpent({ orders, rdp: rdpOfSampledGaussian(args, orders), delta: args.delta });
}

/** RDP of one step at order α. */
function rdpOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  // Not subsampled: the Gaussian mechanism's RDP is α/(2σ²).
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (!Number.isFinite(alpha)) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** ln A_α for integer α: the binomial expansion Σ C(α,i) qⁱ (1−q)^(α−i) exp((i²−i)/(2σ²)). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  let logBinomial = 0;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinomial += Math.log(alpha - i + 1) - Math.log(i);
    const term = logBinomial + i * Math.log(q) + (alpha - i) * Math.log1p(-q) + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/** ln A_α for fractional α: two series with Gaussian tails, summed until their terms are negligible. */
function logAFractional(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  let logAbsBinomial = 0;
  let sign = 1;
  for (let i = 0; ; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      if (factor < 0) sign = -sign;
      logAbsBinomial += Math.log(Math.abs(factor));
    }
    const j = alpha - i;
    const logT0 = logAbsBinomial + i * Math.log(q) + j * Math.log1p(-q);
    const logT1 = logAbsBinomial + j * Math.log(q) + i * Math.log1p(-q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

function logAdd(x: number, y: number): number {
  const [a, b] = x < y ? [x, y] : [y, x];
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

function logSub(x: number, y: number): number {
  if (y === -Infinity) return x;
  // The series' partial sums stay positive; a cancellation to zero (or below) is −∞ in log space.
  if (x <= y) return -Infinity;
  return Math.log(-Math.expm1(y - x)) + x;
}

export { logErfc };
