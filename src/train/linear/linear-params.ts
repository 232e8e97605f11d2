/**
 * The linear trainer's parameters, their ranges and defaults: one schema read by the training spec
 * (`model.params` of a `linear` model) and by {@link trainLinear} when it is called directly.
 */
import { z } from 'zod';
import { gradientParams } from '../common/gradient-params.ts';
import { choice, integer, real } from '../common/param-schema.ts';
import { privacyField } from '../privacy/privacy-params.ts';
import { DEFAULT_LBFGS_TOLERANCE } from './lbfgs.ts';

/**
 * Parameters of linear, logistic and softmax regression.
 *
 * @example
 * ```ts
 * linearParams.parse({ optimizer: 'lbfgs', l2: 1e-3 }) // every other field takes its default
 * ```
 */
export const linearParams = z.strictObject({
  optimizer: choice(['adam', 'sgd', 'lbfgs'])
    .default('adam')
    .describe("'adam' or 'sgd' (mini-batch), or 'lbfgs' (full batch; ignores learningRate and batchSize)"),
  learningRate: real({ gt: 0, cap: 100 }).default(0.01).describe('Step size of Adam and SGD'),
  ...gradientParams,
  epochs: gradientParams.epochs.describe('Passes over the data (Adam, SGD) or iteration budget (L-BFGS)'),
  tolerance: real({ min: 0 })
    .default(DEFAULT_LBFGS_TOLERANCE)
    .describe(
      'L-BFGS stops once the largest gradient component is at most tolerance · max(1, |objective|); 0 runs every iteration (Adam and SGD ignore it)',
    ),
  privacy: privacyField,
});

/** Linear parameters as written (every field optional). */
export type LinearParamsInput = z.input<typeof linearParams>;
/** Linear parameters with their defaults filled in. */
export type LinearParams = z.output<typeof linearParams>;

/**
 * Threads computing the objective, as a training spec's `model.workers` and `trainLinear`'s
 * `params.workers`: optional, since the default depends on the data (see `autoLinearWorkers`).
 * Any count gives the same model bit for bit.
 */
export const linearWorkers = integer({ min: 1, max: 64 })
  .optional()
  .describe(
    'Threads summing the objective (the calling thread plus workers - 1 worker threads); any count gives the same model. Default: 1, or up to 4 (the cores) for L-BFGS on at least 16 million feature entries',
  );
