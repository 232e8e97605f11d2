/**
 * Global feature importance by permutation (Breiman 2001; scikit-learn's
 * `permutation_importance`): for each raw input column and each of `repeats` seeded shuffles,
 * the column's values are permuted across the held-out rows and the model re-scored; a column's
 * importance is the baseline score minus the permuted score, reported as the mean and the
 * (population) standard deviation over the repeats, as scikit-learn does. Columns are permuted as
 * read, before the feature pipeline, so a column that feeds several features (one-hot, dates,
 * hashed text) is measured once, as a whole, for any model kind.
 */
import { seededRandom, shuffleInPlace } from '../common/seeded-random.ts';

/** One column's importance. */
export interface FeatureImportance {
  /** The raw input column. */
  readonly feature: string;
  /** Mean drop of the score over the repeats. */
  readonly importanceMean: number;
  /** Standard deviation (ddof 0) of the drops. */
  readonly importanceStd: number;
  /** Each repeat's drop. */
  readonly importances: readonly number[];
}

/** Options of {@link permutationImportance}. */
export interface PermutationImportanceOptions<Row extends Record<string, unknown>> {
  /** The held-out rows, as read. */
  readonly rows: readonly Row[];
  /** The columns to permute, one at a time. */
  readonly columns: readonly string[];
  /** The model's score on some rows (in the rows' order), higher is better; it must not keep the rows (they are reused). */
  readonly score: (rows: readonly Row[]) => number;
  /** Shuffles per column. @default 5 */
  readonly repeats?: number;
  /** Seed of the shuffles. @default 0 */
  readonly seed?: number;
  /**
   * The permutation of a repeat: permuted row `i` takes the column's value from row `order[i]`.
   * @default a seeded Fisher–Yates shuffle, one stream per column
   */
  readonly permutation?: (args: { column: string; columnIndex: number; repeat: number }) => ArrayLike<number>;
}

/** The baseline score and each column's importance, in the order of `columns`. */
export interface PermutationImportanceResult {
  readonly baselineScore: number;
  readonly features: readonly FeatureImportance[];
}

/**
 * Computes permutation importance.
 *
 * @example
 * ```ts
 * permutationImportance({ rows, columns: ['age', 'income'], score: (r) => accuracyOf(r), repeats: 5, seed: 0 })
 * ```
 */
export function permutationImportance<Row extends Record<string, unknown>>(
  options: PermutationImportanceOptions<Row>,
): PermutationImportanceResult {
  const { rows, columns, score } = options;
  const repeats = options.repeats ?? 5;
  const baselineScore = score(rows);
  const streams = seededRandom(options.seed ?? 0);
  const features = columns.map((column, columnIndex): FeatureImportance => {
    // One stream per column, drawn in column order: a column's shuffles do not depend on how
    // many rows another column has.
    const random = seededRandom(Math.floor(streams() * 2 ** 32));
    const order = new Uint32Array(rows.length);
    const importances: number[] = [];
    // Copied once per column; each repeat only rewrites the column (the other cells are the rows').
    const permuted = rows.map((row) => ({ ...row }));
    for (let repeat = 0; repeat < repeats; repeat++) {
      let permutation: ArrayLike<number>;
      if (options.permutation === undefined) {
        for (let i = 0; i < order.length; i++) order[i] = i;
        shuffleInPlace(order, random);
        permutation = order;
      } else {
        permutation = options.permutation({ column, columnIndex, repeat });
      }
      permuted.forEach((row, i) => {
        (row as Record<string, unknown>)[column] = (rows[permutation[i] as number] as Row)[column];
      });
      importances.push(baselineScore - score(permuted));
    }
    const mean = importances.reduce((a, b) => a + b, 0) / repeats;
    const variance = importances.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats;
    return { feature: column, importanceMean: mean, importanceStd: Math.sqrt(variance), importances };
  });
  return { baselineScore, features };
}
