/**
 * Class weights of a classifier's loss: how much a row of each class counts. On imbalanced data
 * (four flights on time for each late one) an unweighted model can score well by mostly answering
 * the majority class; weighting the rare class up trades a little accuracy for recall on it.
 * `'balanced'` is scikit-learn's `n / (classes · count of the class)` on the training rows, which
 * gives every class the same total weight.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { real } from './param-schema.ts';

/** The parameter: `'balanced'` or one positive weight per class, in class order. */
export const classWeight = z
  .union(
    [
      z.literal('balanced'),
      z.array(real({ gt: 0, cap: 1e6 })).min(2, {
        error: (issue) => `must list one weight per class (at least 2), got ${JSON.stringify(issue.input)}`,
      }),
    ],
    {
      error: (issue) =>
        `must be 'balanced' or a list of positive weights, one per class, got ${JSON.stringify(issue.input)}`,
    },
  )
  .describe(
    "Weight of each class in the loss (classifiers only): 'balanced' (n / (classes × rows of the class), every class weighs the same in all) or one positive number per class in class order (binary: [negative, positive]); unset: every row weighs 1",
  );

/** The parameter as written. */
export type ClassWeight = z.infer<typeof classWeight>;

/**
 * One weight per class for `labels` (integer classes in `[0, numClasses)`), or `undefined` when
 * `weight` is unset (every row weighs 1).
 *
 * @throws StratumError BAD_REQUEST when a list has the wrong length, or `'balanced'` meets a class
 * with no training row.
 * @example
 * ```ts
 * resolveClassWeights({ weight: 'balanced', labels: [0, 0, 0, 1], numClasses: 2, name: 'params.classWeight' }) // [2/3, 2]
 * ```
 */
export function resolveClassWeights(args: {
  weight: ClassWeight | undefined;
  labels: ArrayLike<number>;
  numClasses: number;
  /** Named in errors. */
  name: string;
}): Float64Array | undefined {
  const { weight, labels, numClasses, name } = args;
  if (weight === undefined) return undefined;
  if (weight !== 'balanced') {
    if (weight.length !== numClasses) {
      throw new StratumError(
        'BAD_REQUEST',
        `${name} must have one weight per class (${numClasses}), got ${weight.length}: [${weight.join(', ')}]`,
        { details: { expected: numClasses, received: weight.length } },
      );
    }
    return Float64Array.from(weight);
  }
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    counts[label] = (counts[label] as number) + 1;
  }
  const empty = counts.indexOf(0);
  if (empty >= 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `${name}: 'balanced' needs training rows of every class, class ${empty} has none; give explicit weights`,
      { details: { class: empty } },
    );
  }
  return counts.map((count) => labels.length / (numClasses * count));
}
