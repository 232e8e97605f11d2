/**
 * The MLP trainer's parameters, their ranges and defaults: one schema read by the training spec
 * (`model.params` of an `mlp` model) and by {@link trainMlp} when it is called directly.
 */
import { z } from 'zod';
import { gradientParams } from '../common/gradient-params.ts';
import { choice, integer, real } from '../common/param-schema.ts';
import { privacyField } from '../privacy/privacy-params.ts';

const MAX_LAYERS = 16;

/**
 * Network shape and optimiser settings of the multilayer perceptron.
 *
 * @example
 * ```ts
 * mlpParams.parse({ hiddenLayers: [32], dropout: 0.1 }) // every other field takes its default
 * ```
 */
export const mlpParams = z.strictObject({
  hiddenLayers: z
    .array(integer({ min: 1, cap: 4096 }), {
      error: (issue) => `must be an array of layer widths (e.g. [64, 32]), got ${String(issue.input)}`,
    })
    .max(MAX_LAYERS, {
      error: (issue) => `must have at most ${MAX_LAYERS} layers, got ${(issue.input as unknown[]).length}`,
    })
    .default(() => [64, 64])
    .describe('Width of each hidden layer, input side first; [] gives a linear model trained by Adam'),
  activation: choice(['relu', 'tanh']).default('relu').describe('Non-linearity after every hidden layer'),
  dropout: real({ min: 0, lt: 1 }).default(0).describe('Probability of dropping each hidden unit during training'),
  learningRate: real({ gt: 0, cap: 10 }).default(0.001).describe('Adam step size'),
  ...gradientParams,
  privacy: privacyField,
});

/** MLP parameters as written (every field optional). */
export type MlpParamsInput = z.input<typeof mlpParams>;
/** MLP parameters with their defaults filled in. */
export type MlpParams = z.output<typeof mlpParams>;
