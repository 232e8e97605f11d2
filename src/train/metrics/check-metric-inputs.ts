/**
 * Input checks shared by the metric functions, so every metric rejects the same malformed input
 * with the same BAD_REQUEST message (what was wrong, which row, what was received).
 */
import { StratumError } from '../../errors/index.ts';

/** Throws unless `a` and `b` have the same, non-zero length. */
export function checkSameLength(a: { name: string; values: ArrayLike<number> }, b: typeof a): number {
  if (a.values.length !== b.values.length) {
    throw new StratumError(
      'BAD_REQUEST',
      `${a.name} and ${b.name} must have the same length, got ${a.values.length} and ${b.values.length}`,
      { details: { [a.name]: a.values.length, [b.name]: b.values.length } },
    );
  }
  if (a.values.length === 0) {
    throw new StratumError('BAD_REQUEST', `${a.name}: needs at least one row, got 0`);
  }
  return a.values.length;
}

/** Throws unless every label is an integer in `[0, numClasses)`, naming the first bad row. */
export function checkClassLabels(options: { name: string; labels: ArrayLike<number>; numClasses: number }): void {
  const { name, labels, numClasses } = options;
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new StratumError('BAD_REQUEST', `numClasses must be an integer >= 2, got ${numClasses}`);
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new StratumError(
        'BAD_REQUEST',
        `${name}: row ${i} is ${label}, expected an integer class in [0, ${numClasses - 1}]`,
        { details: { row: i, value: label, numClasses } },
      );
    }
  }
}

/** Throws unless every value is finite, naming the first bad row. */
export function checkFinite(options: { name: string; values: ArrayLike<number> }): void {
  const { name, values } = options;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) {
      throw new StratumError('BAD_REQUEST', `${name}: row ${i} is ${value}, expected a finite number`, {
        details: { row: i, value: String(value) },
      });
    }
  }
}
