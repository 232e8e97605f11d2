/**
 * Stratum's side of the ingest comparison: a numeric CSV read into float32 feature batches with the
 * library's numeric reader (bytes parsed straight into a Float32Array), as a training job would
 * consume it. One thread: on the 2-core benchmark machine two workers measured slower (starting a
 * worker under tsx costs about 0.4 s of CPU, and the rows are then copied once more).
 */
import { readCsvMatrix } from '../../src/data/csv-matrix.ts';

/** A whole numeric CSV as one row-major float32 matrix. */
export interface NumericMatrix {
  readonly rows: number;
  readonly columns: number;
  readonly data: Float32Array;
}

/** Reads every column of a numeric CSV into one matrix (empty cells are NaN). */
export async function readNumericCsvMatrix(path: string): Promise<NumericMatrix> {
  const matrix = await readCsvMatrix(path, { workers: 1 });
  return { rows: matrix.rows, columns: matrix.columns.length, data: matrix.data };
}
