/**
 * Data-parallel GBDT across processes: this process is rank `r` of a {@link SyncCollective} and
 * owns shard `r` of the rows, the same contiguous range of the trainer's row order that worker
 * thread shard `r` would own (`gbdt-worker-shards.ts`). It builds histograms of its own rows; the
 * collective sums them over the ranks in rank order, which is the order the threaded trainer sums
 * its shards in, so W processes grow the very trees W threads do, and every rank grows them
 * itself: no tree is sent, only histograms (the selected features' bins, plus the node's gradient
 * and hessian sums) and one loss per progress report.
 */
import { createRowShard, FEATURE_STRIDE, SLOT, type GbdtBuffers } from './row-shard.ts';
import type { ShardSet } from './shard-set.ts';
import { THRESHOLD_SCALE } from './gbdt-shard-commands.ts';
import type { SyncCollective } from '../parallel/sync-collective.ts';

/** Options of {@link collectiveShardSet}. */
export interface CollectiveShardSetOptions {
  /** Every row's buffers (each rank bins every row, so every rank can score the validation rows). */
  readonly buffers: GbdtBuffers;
  /** The group; `rank` picks the shard, `worldSize` the shard count. */
  readonly collective: SyncCollective;
}

/** The rows `[lo, hi)` (in the trainer's row order) shard `shard` of `shards` owns. */
export function shardBounds(args: { numRows: number; shards: number; shard: number }): { lo: number; hi: number } {
  const { numRows, shards, shard } = args;
  const bound = (s: number): number => Math.floor((s * numRows) / shards);
  return { lo: bound(shard), hi: bound(shard + 1) };
}

/** A {@link ShardSet} whose other shards live in the other ranks of `collective`. */
export function collectiveShardSet(options: CollectiveShardSetOptions): ShardSet {
  const { buffers, collective } = options;
  const range = shardBounds({ numRows: buffers.numRows, shards: collective.worldSize, shard: collective.rank });
  const shard = createRowShard(buffers, range);
  let numBins = new Int32Array(buffers.numFeatures);
  let segment = { start: 0, end: 0 };
  let scratch = new Float64Array(0);

  /**
   * Sums `histograms` over the ranks in one operation (the selected features' bins of each) with
   * `[grad, hess]`, and returns the summed pair.
   */
  const reduce = (args: {
    histograms: readonly Float64Array[];
    features: Int32Array;
    sums: [number, number];
  }): [number, number] => {
    const { histograms, features, sums } = args;
    let width = 0;
    for (const f of features) width += (numBins[f] as number) * SLOT;
    const size = width * histograms.length + 2;
    if (scratch.length !== size) scratch = new Float64Array(size);
    let at = 0;
    for (const histogram of histograms) {
      for (const f of features) {
        const start = f * FEATURE_STRIDE;
        const end = start + (numBins[f] as number) * SLOT;
        scratch.set(histogram.subarray(start, end), at);
        at += end - start;
      }
    }
    scratch[at] = sums[0];
    scratch[at + 1] = sums[1];
    collective.allreduceSum(scratch);
    at = 0;
    for (const histogram of histograms) {
      for (const f of features) {
        const length = (numBins[f] as number) * SLOT;
        histogram.set(scratch.subarray(at, at + length), f * FEATURE_STRIDE);
        at += length;
      }
    }
    return [scratch[at] as number, scratch[at + 1] as number];
  };

  return {
    buffers,
    prepare: ({ sparseThreshold, numBins: bins }) => {
      numBins = Int32Array.from(bins);
      // Rounded as the threaded trainer rounds it, so a shard is laid out the same way there.
      shard.prepare({ sparseThreshold: Math.round(sparseThreshold * THRESHOLD_SCALE) / THRESHOLD_SCALE });
    },
    computeGradients: (args) => shard.computeGradients(args),
    setRows: (rows) => {
      buffers.rows.set(rows);
      segment = { start: lowerBound(rows, range.lo), end: lowerBound(rows, range.hi) };
    },
    root: ({ features, histogram }) => {
      const sums = shard.root({ ...segment, features, histogram });
      return reduce({ histograms: [histogram], features, sums });
    },
    split: (args) => {
      shard.split(args);
      if (!args.split.skipHistogram) reduce({ histograms: [args.histogram], features: args.features, sums: [0, 0] });
    },
    splitMany: ({ splits, features }) => {
      for (const { split, histogram } of splits) shard.split({ split, features, histogram });
      const built = splits.filter((s) => !s.split.skipHistogram).map((s) => s.histogram);
      if (built.length > 0) reduce({ histograms: built, features, sums: [0, 0] });
    },
    addLeaves: (args) => shard.addLeaves(args),
    lossSum: (objective) => {
      const total = new Float64Array([shard.lossSum(objective)]);
      collective.allreduceSum(total);
      return total[0] as number;
    },
    // The collective belongs to the caller, who may train again or record the run on it.
    close: async () => {},
  };
}

/** The first index of ascending `rows` whose value is at least `value`. */
function lowerBound(rows: Uint32Array, value: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
