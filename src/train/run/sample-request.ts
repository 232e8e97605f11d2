/**
 * A few real rows of a run's held-out data as an Open Inference Protocol request body for the
 * exported model (its raw column inputs), stored with the registered version so that a deployment
 * warms the version up with real inputs instead of zeros.
 */
import { toRawColumns } from '../../features/index.ts';
import type { FittedFeatures } from '../../features/fitted-features.ts';
import type { TrainingRow } from './read-training-data.ts';

/** Rows a sample request holds at most. */
export const SAMPLE_ROWS = 8;

/** Rows looked at to find complete ones. */
const CANDIDATE_ROWS = 256;

/** One input of the request body (OIP JSON). */
export interface SampleInput {
  readonly name: string;
  readonly datatype: 'FP32' | 'FP64' | 'BYTES';
  readonly shape: readonly [number, 1];
  readonly data: readonly (number | string)[];
}

/**
 * Up to {@link SAMPLE_ROWS} rows, in data order, whose numeric cells are all present (a missing
 * number is NaN in the graph's input, which JSON cannot carry). Undefined when no row qualifies.
 *
 * @example
 * ```ts
 * const body = sampleRequest(fitted, split.validation.rows) // { inputs: [{ name: 'age', datatype: 'FP32', shape: [8, 1], data: [...] }, ...] }
 * ```
 */
export function sampleRequest(
  fitted: FittedFeatures,
  rows: readonly TrainingRow[],
): { readonly inputs: readonly SampleInput[] } | undefined {
  const columns = toRawColumns(fitted, rows.slice(0, CANDIDATE_ROWS));
  const count = Math.min(rows.length, CANDIDATE_ROWS);
  const picked: number[] = [];
  for (let i = 0; i < count && picked.length < SAMPLE_ROWS; i++) {
    if (columns.every((c) => c.type === 'STRING' || Number.isFinite(c.data[i] as number))) picked.push(i);
  }
  if (picked.length === 0) return undefined;
  return {
    inputs: columns.map((c) => ({
      name: c.column,
      datatype: c.type === 'STRING' ? 'BYTES' : c.type === 'DOUBLE' ? 'FP64' : 'FP32',
      shape: [picked.length, 1],
      data: picked.map((i) => c.data[i] as number | string),
    })),
  };
}
