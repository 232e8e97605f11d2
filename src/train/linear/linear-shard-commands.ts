/** The shared memory and commands of data-parallel linear training. */
import type { LinearShape } from './linear-objective.ts';
import type { SparseRowsBuffers } from './sparse-rows.ts';

/**
 * Operation codes; each command's arguments are `[row count, 1 with gradient else 0, blocks,
 * layout]`.
 */
export const LINEAR_OP = Object.freeze({ fullBatch: 1, rowIndices: 2, stop: 3 } as const);

/** Which array of the feature home holds the features (a command's fourth argument). */
export const LINEAR_LAYOUT = Object.freeze({ dense: 0, sparse: 1 } as const);

/** Where the worker threads find the training features, laid out before the features are read. */
export interface LinearFeatureHome {
  /** Room for the CSR copy (`scanToSparseRows`'s `into`), on shared memory. */
  readonly sparse: SparseRowsBuffers;
  /** Room for the dense matrix, used only when the features are not sparse enough. */
  readonly dense: Float32Array;
}

/** What a linear shard worker receives (arrays are views of SharedArrayBuffers). */
export interface LinearWorkerData {
  readonly shape: LinearShape;
  /** Training rows. */
  readonly rows: number;
  /** The training labels, copied into shared memory. */
  readonly labels: Float64Array;
  /** The training features, filled by the caller after the threads start and before their first command. */
  readonly home: LinearFeatureHome;
  /** Parameters to evaluate at, written by the caller before each command. */
  readonly theta: Float64Array;
  /** Mini-batch row ids, for `rowIndices` commands. */
  readonly rowIndices: Uint32Array;
  /** One gradient slot per block (`MAX_LINEAR_BLOCKS` of them). */
  readonly gradients: Float64Array;
  /** One loss sum per block. */
  readonly totals: Float64Array;
  readonly control: Int32Array;
  readonly errorBytes: Uint8Array;
}
