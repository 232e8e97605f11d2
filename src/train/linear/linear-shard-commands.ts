/** The shared memory and commands of data-parallel linear training. */
import type { LinearData, LinearShape } from './linear-objective.ts';

/** Operation codes; each command's arguments are `[row count, 1 with gradient else 0]`. */
export const LINEAR_OP = Object.freeze({ fullBatch: 1, rowIndices: 2, stop: 3 } as const);

/** What a linear shard worker receives (arrays are views of SharedArrayBuffers). */
export interface LinearWorkerData {
  readonly shape: LinearShape;
  /** Training rows (features and labels copied into shared memory). */
  readonly data: LinearData;
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
