/** Messages between csv-matrix.ts (the main thread) and csv-matrix-worker.ts (a worker thread). */
import type { MatrixFailure, MatrixLayout } from './csv-matrix-records.ts';

/** What a worker is started with (`workerData`). */
export interface CsvMatrixWorkerData {
  readonly path: string;
  readonly layout: MatrixLayout;
}

/**
 * A byte range of the file: the worker parses the records that start in `[start, end)`, reading
 * past `end` to finish the last one. Unless `aligned` (`start` is known to begin a record), the
 * first record starts after the first line break at or after `start - 1`.
 */
export interface RangeRequest {
  /** The pool's number for the request, echoed by the response. */
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly aligned: boolean;
  /** A buffer of an earlier response, transferred back for the worker to reuse. */
  readonly recycled: ArrayBuffer | undefined;
}

/**
 * The range's rows (the first `rows` rows of `data`, transferred); or `quoted`: the range holds a
 * quote, so a quoted field may span lines and cutting at line breaks may be wrong, and the main
 * thread reads on from `start` (where the range's first record begins) itself; or a record's
 * failure (the record's file offset); or an unexpected error (reading the file).
 */
export type RangeResponse =
  | {
      readonly id: number;
      readonly kind: 'rows';
      /** The file offset of the range's first record. */
      readonly start: number;
      readonly data: Float32Array;
      readonly rows: number;
    }
  | { readonly id: number; readonly kind: 'quoted'; readonly start: number }
  | { readonly id: number; readonly kind: 'failure'; readonly failure: MatrixFailure }
  | { readonly id: number; readonly kind: 'error'; readonly message: string };

/** What a worker posts once its modules are loaded, before any response. */
export const CSV_MATRIX_WORKER_READY = 'stratum-csv-matrix-worker-ready';
