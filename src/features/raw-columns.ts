/**
 * Rows → the raw column tensors the exported feature graph takes as inputs (FLOAT or DOUBLE [N,1]
 * with NaN for missing, STRING [N,1] with '' for missing), using the same cell rules as the
 * TypeScript reference.
 */
import type { FeatureRow } from './fit.ts';
import type { FittedFeatures } from './fitted-features.ts';
import { toRawDouble, toRawNumber, toRawString } from './raw-value.ts';

/** One graph input's contents; the shape is `[data.length, 1]`. */
export type RawColumn =
  | { readonly column: string; readonly type: 'FLOAT'; readonly data: Float32Array }
  | { readonly column: string; readonly type: 'DOUBLE'; readonly data: Float64Array }
  | { readonly column: string; readonly type: 'STRING'; readonly data: string[] };

/**
 * The graph inputs for `rows`, one per entry of `fitted.inputs`, in that order.
 *
 * @throws StratumError BAD_REQUEST when a cell has the wrong type.
 */
export function toRawColumns(fitted: FittedFeatures, rows: readonly FeatureRow[]): RawColumn[] {
  return fitted.inputs.map(({ column, type }): RawColumn => {
    if (type === 'STRING') {
      return { column, type, data: rows.map((row) => toRawString({ column, value: row[column] })) };
    }
    if (type === 'DOUBLE') {
      return { column, type, data: Float64Array.from(rows, (row) => toRawDouble({ column, value: row[column] })) };
    }
    return { column, type, data: Float32Array.from(rows, (row) => toRawNumber({ column, value: row[column] })) };
  });
}
