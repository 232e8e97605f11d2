/**
 * The distribution tails the drift tests turn statistics into p-values with: the chi-square
 * survival function (through the regularised upper incomplete gamma function), the standard
 * normal two-sided tail, and the Kolmogorov distribution's survival function. Double precision to
 * about 1e-14 relative (series or Lentz continued fraction, as in Numerical Recipes §6.2).
 */

const EPSILON = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 10_000;

// Lanczos approximation (g = 7, n = 9): ln Γ to ~1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function, for a > 0, x ≥ 0. */
export function upperGammaRegularized(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // The series of P(a, x) converges quickly here; Q = 1 − P.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  // Continued fraction of Q(a, x) (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/** P(χ²_df > x): the chi-square survival function. */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return Number.NaN;
  return upperGammaRegularized(df / 2, x / 2);
}

/** P(|Z| ≥ |z|) for a standard normal Z: 2 (1 − Φ(|z|)) = erfc(|z| / √2) = Q(½, z² / 2). */
export function normalTwoSided(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  return upperGammaRegularized(0.5, (z * z) / 2);
}

/**
 * P(K > t) for the Kolmogorov distribution K (the limit of √n·D): 2 Σ (−1)^(j−1) e^(−2 j² t²),
 * with the theta-function form for small t where the alternating series converges slowly.
 */
export function kolmogorovSurvival(t: number): number {
  if (t <= 0) return 1;
  if (t < 1) {
    // 1 − (√(2π) / t) Σ e^(−(2j−1)² π² / (8 t²))
    const w = (Math.PI * Math.PI) / (8 * t * t);
    let sum = 0;
    for (let j = 1; j < 50; j++) {
      const term = Math.exp(-(2 * j - 1) * (2 * j - 1) * w);
      sum += term;
      if (term < EPSILON * sum) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / t) * sum));
  }
  let sum = 0;
  for (let j = 1; j < 100; j++) {
    const term = Math.exp(-2 * j * j * t * t);
    sum += j % 2 === 1 ? term : -term;
    if (term < EPSILON * Math.abs(sum)) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
