/**
 * The two sides a column's drift is judged on. A reference column is a raw sample (numbers sorted,
 * or category counts) or, from a training profile, an equal-width histogram with the category
 * counts the profile kept; the current column is always raw (the window's values). All of it is
 * structured-cloneable, so a large comparison can move to a worker thread as it is.
 */

/** A reference column. */
export type ReferenceColumn =
  /** Raw numbers, ascending. */
  | { readonly kind: 'numeric'; readonly values: Float64Array }
  /**
   * A profile's histogram; `std` is the population standard deviation the profile recorded, and
   * `valueCounts` the (approximate) count of each value when the column has at most five distinct
   * values (from the profile's quantile sketch), which makes it a categorical comparison.
   */
  | {
      readonly kind: 'numeric-binned';
      readonly edges: readonly number[];
      readonly counts: readonly number[];
      readonly std: number;
      readonly valueCounts?: ReadonlyMap<string, number>;
    }
  /** Category counts; `rest` counts values in no listed category (a profile keeps the top ones only). */
  | { readonly kind: 'categorical'; readonly counts: ReadonlyMap<string, number>; readonly rest: number };

/** A current column: numbers (any order) or category counts. */
export type CurrentColumn =
  | { readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly kind: 'categorical'; readonly counts: ReadonlyMap<string, number> };

/** A named reference column. */
export interface NamedReference {
  readonly name: string;
  readonly column: ReferenceColumn;
}

/** The reference of a model version. */
export interface DriftReference {
  /** Rows the reference holds (of the sample, or of the profiled dataset). */
  readonly rows: number;
  /** Whether the columns are a raw sample (exact tests) or a profile (binned tests). */
  readonly source: 'sample' | 'profile';
  readonly columns: readonly NamedReference[];
}

/** What a column's values are compared as. */
export function valueKind(column: ReferenceColumn): 'numeric' | 'categorical' {
  return column.kind === 'categorical' ? 'categorical' : 'numeric';
}

/** Rows with a value in a reference column. */
export function referenceRows(column: ReferenceColumn): number {
  switch (column.kind) {
    case 'numeric':
      return column.values.length;
    case 'numeric-binned':
      return column.counts.reduce((a, b) => a + b, 0);
    case 'categorical':
      return sumCounts(column.counts) + column.rest;
  }
}

/** Rows with a value in a current column. */
export function currentRows(column: CurrentColumn): number {
  return column.kind === 'numeric' ? column.values.length : sumCounts(column.counts);
}

/** The sum of a count map. */
export function sumCounts(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}
