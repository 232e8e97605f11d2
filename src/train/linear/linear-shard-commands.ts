/** The shared memory and commands of data-parallel linear training. */
import type { LinearData, LinearShape } from './linear-objective.ts';

/** Operation codes. */
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
  /** One gradient slot per worker. */
  readonly gradients: Float64Array;
  /** One loss sum per worker. */
  readonly totals: Float64Array;
  readonly control: Int32Array;
  readonly errorBytes: Uint8Array;
  /** Zero-based worker index (shard `index + 1`; shard 0 is the caller's). */
  readonly index: number;
  /** Shards in all, including the caller's. */
  readonly workers: number;
}

/** Contiguous `[start, end)` share of `count` rows for shard `shard` of `shards`. */
export function shardBounds(args: { count: number; shards: number; shard: number }): [number, number] {
  const { count, shards, shard } = args;
  return [Math.floor((shard * count) / shards), Math.floor(((shard + 1) * count) / shards)];
}
