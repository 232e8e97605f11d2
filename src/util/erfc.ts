/**
 * The complementary error function by the Chebyshev fit of Numerical Recipes (`erfcc`):
 * fractional error under 1.2e-7 everywhere. The fit is a product `t·exp(…)`, so its logarithm
 * never underflows however far out the tail (the privacy accountant needs ln erfc of large x).
 */

/** ln erfc(x); for x < 0, erfc(x) = 2 − erfc(−x) lies in (1, 2]. */
export function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** erfc(x). */
export function erfc(x: number): number {
  const r = Math.exp(logErfc(Math.abs(x)));
  return x >= 0 ? r : 2 - r;
}
