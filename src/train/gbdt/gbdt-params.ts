/**
 * The GBDT trainer's parameters, their ranges and defaults: one schema read by the training spec
 * (`model.params` of a `gbdt` model) and by {@link trainGbdt} when it is called directly.
 */
import { z } from 'zod';
import { fraction, integer, real } from '../common/param-schema.ts';
import { classWeight } from '../common/class-weight.ts';
import { MAX_BINS } from './binning.ts';

/**
 * Boosting hyper-parameters; every field has a default.
 *
 * @example
 * ```ts
 * gbdtParams.parse({ numTrees: 300, maxDepth: 8 }) // every other field takes its default
 * ```
 */
export const gbdtParams = z.strictObject({
  numTrees: integer({ min: 1, cap: 100_000 }).default(100).describe('Boosting rounds (trees per output)'),
  learningRate: real({ gt: 0, max: 1 }).default(0.1).describe('Shrinkage applied to each tree'),
  maxDepth: integer({ min: 1, max: 30 }).default(6).describe('Largest tree depth'),
  maxLeaves: integer({ min: 2 })
    .optional()
    .describe(
      "Largest number of leaves per tree; trees grow best-first, so a budget below 2 ** maxDepth keeps the most useful splits (LightGBM's num_leaves); unset: 2 ** maxDepth",
    ),
  minChildWeight: real({ min: 0 }).default(1).describe('Smallest hessian sum a child may have'),
  lambda: real({ min: 0 }).default(1).describe('L2 penalty on leaf values'),
  rowSubsample: fraction({ gt: 0 }).default(1).describe('Fraction of rows sampled per round'),
  colSubsample: fraction({ gt: 0 }).default(1).describe('Fraction of features sampled per tree'),
  seed: integer().default(0).describe('Seed of the subsampling generator'),
  maxBins: integer({ min: 2, max: MAX_BINS }).default(MAX_BINS).describe('Quantile bins per feature'),
  earlyStoppingRounds: integer({ min: 1 })
    .optional()
    .describe(
      'Stop when the validation loss has not improved for this many rounds (needs a validation set); unset: never',
    ),
  classWeight: classWeight.optional(),
  sparseThreshold: fraction({ min: 0 })
    .default(0.8)
    .describe(
      "Features whose most frequent bin holds more than this share of a shard's rows get sparse histograms (LightGBM's sparse_threshold); 1 keeps every feature dense. Changes only the summation order",
    ),
});

/** GBDT parameters as written (every field optional). */
export type GbdtParamsInput = z.input<typeof gbdtParams>;
/** GBDT parameters with their defaults filled in. */
export type GbdtParamsOutput = z.output<typeof gbdtParams>;
