/**
 * The DP-SGD parameters of the gradient trainers (`model.params.privacy` of a `linear` or `mlp`
 * model): one schema, spread into `linearParams` and `mlpParams`, read by the spec and by direct
 * calls alike.
 */
import { z } from 'zod';
import { real } from '../common/param-schema.ts';

/**
 * Differentially private training: each step takes a Poisson sample of the rows (each row with
 * probability `batchSize / rows`), clips every row's gradient to L2 norm `clipNorm`, adds Gaussian
 * noise of standard deviation `noiseMultiplier · clipNorm` to their sum and divides by the
 * expected batch size. ε is reported at `delta` by the RDP accountant.
 *
 * @example
 * ```ts
 * privacyParams.parse({ noiseMultiplier: 1.1 }) // clipNorm 1, delta 1e-5
 * ```
 */
export const privacyParams = z.strictObject({
  noiseMultiplier: real({ gt: 0, cap: 1000 }).describe(
    'σ: standard deviation of the Gaussian noise added to the summed clipped gradients, over clipNorm',
  ),
  clipNorm: real({ gt: 0 }).default(1).describe("C: each row's gradient is scaled down to at most this L2 norm"),
  delta: real({ gt: 0, lt: 1 }).default(1e-5).describe('δ at which ε is reported; keep it well below 1/rows'),
});

/** DP-SGD parameters as written. */
export type PrivacyParamsInput = z.input<typeof privacyParams>;
/** DP-SGD parameters with their defaults. */
export type PrivacyParams = z.output<typeof privacyParams>;

/** The `privacy` field of the trainers' schemas. */
export const privacyField = privacyParams
  .optional()
  .describe(
    'Differentially private training (DP-SGD with Poisson sampling, RDP accounting): noiseMultiplier, clipNorm, delta; unset: ordinary training',
  );
