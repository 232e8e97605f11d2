/**
 * The contract between the tree grower and the rows: a set of {@link RowShard}s that together hold
 * every training row, run as one. {@link localShardSet} is one shard on the calling thread;
 * `src/train/gbdt/gbdt-worker-shards.ts` spreads the rows over worker threads.
 */
import { createRowShard, type GbdtBuffers, type ShardSplit } from './row-shard.ts';

/** All shards, driven as one; reductions run in shard order so results are fixed for a shard count. */
export interface ShardSet {
  /** The buffers every shard works on. */
  readonly buffers: GbdtBuffers;
  /**
   * Lays out every shard's bins once `buffers.bins` is filled, before the first tree. `numBins[f]`
   * is feature `f`'s bin count; features whose most frequent bin holds more than `sparseThreshold`
   * of a shard's rows are stored sparse in that shard.
   */
  prepare(args: { sparseThreshold: number; numBins: Int32Array }): void;
  /** Gradients and hessians of output `output` for every row. */
  computeGradients(args: { objective: number; output: number }): void;
  /** Sets the ascending row ids the next tree grows on. */
  setRows(rows: Uint32Array): void;
  /** Starts a tree: its root histogram over `features` into zeroed `histogram`; returns the gradient and hessian sums. */
  root(args: { features: Int32Array; histogram: Float64Array }): [number, number];
  /** Applies a split everywhere and writes the chosen child's histogram into zeroed `histogram`. */
  split(args: { split: ShardSplit; features: Int32Array; histogram: Float64Array }): void;
  /**
   * Applies several splits (of different nodes) and writes each chosen child's histogram into its
   * zeroed `histogram`, as `split` would one after the other. Offered by shards whose histograms
   * cost a round trip to sum, so a tree grows one batch per depth (`grow-tree-batched.ts`).
   * @default absent: splits go one by one
   */
  splitMany?(args: { splits: readonly { split: ShardSplit; histogram: Float64Array }[]; features: Int32Array }): void;
  /** Adds leaf values to the scores of the rows of the last tree's leaves. */
  addLeaves(args: { nodes: Float64Array; values: Float64Array; count: number; output: number }): void;
  /** Training loss summed over every row. */
  lossSum(objective: number): number;
  /** Releases threads, if any; idempotent. */
  close(): Promise<void>;
}

/** One shard holding every row, on the calling thread. */
export function localShardSet(buffers: GbdtBuffers): ShardSet {
  const shard = createRowShard(buffers, { lo: 0, hi: buffers.numRows });
  let count = buffers.numRows;
  return {
    buffers,
    prepare: ({ sparseThreshold }) => shard.prepare({ sparseThreshold }),
    computeGradients: (args) => shard.computeGradients(args),
    setRows: (rows) => {
      buffers.rows.set(rows);
      count = rows.length;
    },
    root: ({ features, histogram }) => shard.root({ start: 0, end: count, features, histogram }),
    split: (args) => shard.split(args),
    addLeaves: (args) => shard.addLeaves(args),
    lossSum: (objective) => shard.lossSum(objective),
    close: async () => {},
  };
}
