/**
 * The default test of a column, as Evidently's data drift preset chooses it
 * (`evidently.calculations.stattests.registry._get_default_stattest`): with a small reference
 * (≤ 1000 rows) Kolmogorov–Smirnov for numbers and chi-square for categories (the z-test when
 * there are only two), with a larger one the normed Wasserstein distance for numbers and the
 * Jensen–Shannon distance for categories; a numeric column with at most five distinct values (over
 * both sides) is judged as a categorical one.
 */
import type { DriftTest } from './drift-config.ts';

/** At most this many reference rows is a small reference. */
export const SMALL_REFERENCE_ROWS = 1000;
/** A numeric column with at most this many distinct values is compared as categories. */
export const FEW_VALUES = 5;

/** The default test for a column. */
export function defaultTest(options: {
  readonly kind: 'numeric' | 'categorical';
  /** Reference rows with a value. */
  readonly referenceRows: number;
  /** Distinct values over reference and current together. */
  readonly distinctValues: number;
}): DriftTest {
  const categorical = options.kind === 'categorical' || options.distinctValues <= FEW_VALUES;
  if (options.referenceRows <= SMALL_REFERENCE_ROWS) {
    if (!categorical) return 'ks';
    return options.distinctValues > 2 ? 'chisquare' : 'z';
  }
  return categorical ? 'jensenshannon' : 'wasserstein';
}
