/**
 * The parameters the gradient trainers (linear models and the MLP) share, with their ranges and
 * defaults: the L2 strength, the epoch budget, the mini-batch size, the seed and early stopping.
 * Each trainer's schema spreads them next to its own (`linearParams`, `mlpParams`).
 */
import { integer, real } from './param-schema.ts';

/** Shape of the shared fields, to spread into a `z.strictObject`. */
export const gradientParams = {
  l2: real({ min: 0 })
    .default(0)
    .describe('L2 strength λ; the objective adds λ/2 · ‖W‖² over the weights (not the biases)'),
  epochs: integer({ min: 1, cap: 100_000 }).default(20).describe('Passes over the data'),
  batchSize: integer({ min: 1 }).default(256).describe('Rows per mini-batch (the last batch may be smaller)'),
  seed: integer()
    .default(0)
    .describe('Seed of every random choice; the same seed and data give the same model bit for bit'),
  earlyStoppingRounds: integer({ min: 1 })
    .optional()
    .describe(
      "Stop when the monitored loss (validation if given, else training) has not improved for this many epochs, and return the best epoch's weights; unset: no early stopping",
    ),
} as const;
