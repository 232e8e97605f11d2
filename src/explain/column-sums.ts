/**
 * SHAP values per raw input column: a pipeline's model reads encoded features (a one-hot column's
 * categories, a text column's hashed n-grams), and the explanation a user reads is per column.
 * Summing keeps the sum property (Σφ + base = the explained output) because SHAP values are
 * additive over the features a column expands to.
 */

/** How feature values are summed into their columns. */
export interface ColumnSums {
  /** The raw columns in first-use order. */
  readonly names: readonly string[];
  /**
   * Sums a block of values (row-major `rows × outputs × width`) per column.
   * @returns `[row][output][column]`.
   */
  sum(values: Float64Array, shape: { rows: number; outputs: number; width: number }): number[][][];
}

/**
 * The grouping of features whose raw columns are `columns` (one per feature).
 *
 * @example
 * ```ts
 * const sums = columnSums(['city', 'city', 'age'])
 * sums.names // ['city', 'age']
 * sums.sum(Float64Array.of(0.1, 0.2, 0.5), { rows: 1, outputs: 1, width: 3 }) // [[[0.3, 0.5]]]
 * ```
 */
export function columnSums(columns: readonly string[]): ColumnSums {
  const names = [...new Set(columns)];
  const slot = columns.map((column) => names.indexOf(column));
  return {
    names,
    sum(values, { rows, outputs, width }) {
      return Array.from({ length: rows }, (_, r) =>
        Array.from({ length: outputs }, (_, k) => {
          const sums = new Array<number>(names.length).fill(0);
          const offset = (r * outputs + k) * width;
          for (let i = 0; i < width; i++) {
            const j = slot[i] as number;
            sums[j] = (sums[j] as number) + (values[offset + i] as number);
          }
          return sums;
        }),
      );
    },
  };
}
