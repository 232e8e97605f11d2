/**
 * The numeric tolerance check of the tests: `actual` is close to `expected` when
 * |actual − expected| ≤ atol + rtol·|expected| (numpy's `isclose`), or ≤ max(atol, rtol·|expected|)
 * with `combine: 'max'`. NaN is never close to anything. Each test passes its own tolerance: there
 * is no default, so that a check is never looser (or stricter) than its author wrote.
 */
import assert from 'node:assert/strict';

/** How close is close enough. Missing parts count as 0. */
export interface Tolerance {
  /** Absolute part. @default 0 */
  readonly atol?: number;
  /** Relative part, a fraction of |expected|. @default 0 */
  readonly rtol?: number;
  /** `sum`: atol + rtol·|expected|; `max`: max(atol, rtol·|expected|). @default 'sum' */
  readonly combine?: 'sum' | 'max';
}

/** The largest |actual − expected| that `tolerance` accepts around `expected`. */
export function toleranceLimit(expected: number, tolerance: Tolerance): number {
  const atol = tolerance.atol ?? 0;
  const relative = tolerance.rtol === undefined ? 0 : tolerance.rtol * Math.abs(expected);
  return tolerance.combine === 'max' ? Math.max(atol, relative) : atol + relative;
}

/** Whether `actual` is within `tolerance` of `expected` (false for NaN on either side). */
export function isClose(actual: number, expected: number, tolerance: Tolerance): boolean {
  return Math.abs(actual - expected) <= toleranceLimit(expected, tolerance);
}

/** A tolerance and the name of what is checked, for the failure message. */
export type CloseOptions = Tolerance & { readonly label?: string };

/**
 * Asserts that a number, or every element of an array, is close to what is expected. For arrays
 * the lengths must match; elements that are not both numbers (bigints, strings, booleans) must be
 * equal. A scalar `actual` that is not a number (null, undefined) fails.
 *
 * @example
 * assertClose(rmse(targets, predictions), 0.5, { atol: 1e-12 });
 * assertClose(output.data, reference.data, { atol: 1e-5, rtol: 1e-5, label: 'logits' });
 */
export function assertClose(actual: number | null | undefined, expected: number, options: CloseOptions): void;
export function assertClose(actual: ArrayLike<unknown>, expected: ArrayLike<unknown>, options: CloseOptions): void;
export function assertClose(
  actual: number | null | undefined | ArrayLike<unknown>,
  expected: number | ArrayLike<unknown>,
  options: CloseOptions,
): void {
  const label = options.label ?? 'value';
  if (typeof expected === 'number') {
    assert.ok(typeof actual === 'number', `${label}: expected a number close to ${expected}, got ${String(actual)}`);
    if (!isClose(actual, expected, options)) failClose({ actual, expected, tolerance: options, label });
    return;
  }
  assert.ok(actual !== null && actual !== undefined && typeof actual === 'object', `${label}: expected an array`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a: unknown = actual[i];
    const e: unknown = expected[i];
    if (typeof a === 'number' && typeof e === 'number') {
      if (!isClose(a, e, options)) failClose({ actual: a, expected: e, tolerance: options, label: `${label}[${i}]` });
    } else {
      assert.equal(a, e, `${label}[${i}]`);
    }
  }
}

function failClose(failure: { actual: number; expected: number; tolerance: Tolerance; label: string }): never {
  const { actual, expected, label } = failure;
  assert.fail(`${label}: ${actual} vs ${expected} differs by more than ${toleranceLimit(expected, failure.tolerance)}`);
}
