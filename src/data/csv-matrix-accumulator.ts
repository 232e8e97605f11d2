/**
 * One matrix for the whole file (readCsvMatrix): rows are written into a single Float32Array sized
 * from the file, so the values are written once, into memory touched once. Fresh memory is
 * costly to touch (a page fault per page), so copying batches into a final matrix would cost
 * about as much as parsing. The size is estimated from the bytes per row seen so far; a short
 * estimate grows the array.
 */
import type { RowSink } from './csv-matrix-sink.ts';

/** How far the reading has got, for the size estimate. */
export interface ReadProgress {
  /** Bytes of data (after the header) whose rows were all written before the current input. */
  bytesBefore: number;
  /** Rows written before the current input. */
  rowsBefore: number;
  /** Bytes of data in the file. */
  readonly totalBytes: number;
}

/** The smallest first allocation, before anything is known about the rows. */
const INITIAL_ROWS = 4096;

/** Fills one growing matrix; `takeRest` gives it, trimmed to its rows. */
export class MatrixAccumulator implements RowSink {
  data = new Float32Array(0);
  rows = 0;
  capacity = 0;
  readonly #width: number;
  readonly #progress: ReadProgress;

  constructor(options: { width: number; progress: ReadProgress }) {
    this.#width = options.width;
    this.#progress = options.progress;
  }

  grow(): void {
    const { bytesBefore, rowsBefore, totalBytes } = this.#progress;
    const estimate = bytesBefore > 0 ? Math.ceil(((rowsBefore * totalBytes) / bytesBefore) * 1.02) + 1024 : 0;
    const capacity = Math.max(estimate, Math.ceil(this.capacity * 1.5), INITIAL_ROWS);
    const data = new Float32Array(capacity * this.#width);
    data.set(this.data.subarray(0, this.rows * this.#width));
    this.data = data;
    this.capacity = capacity;
  }

  /** Copies the first `rows` rows of `source`. */
  append(source: Float32Array, rows: number): void {
    while (this.capacity - this.rows < rows) this.grow();
    this.data.set(source.subarray(0, rows * this.#width), this.rows * this.#width);
    this.rows += rows;
  }

  /** Nothing: the matrix is given whole at the end. */
  takeFull(): Float32Array[] {
    return [];
  }

  /**
   * The matrix, a view of the used part of a buffer that may be a little longer (trimming would
   * copy it all into fresh memory again).
   */
  takeRest(): { data: Float32Array; rows: number } | undefined {
    if (this.rows === 0) return undefined;
    return { data: this.data.subarray(0, this.rows * this.#width), rows: this.rows };
  }
}
