/**
 * The GBDT shard commands and their shared memory: what a worker receives at start
 * ({@link GbdtWorkerData}) and how it runs each command on its shard ({@link runShardCommand}).
 */
import { FEATURE_STRIDE, SLOT, type GbdtBuffers, type RowShard, type ShardSplit } from './row-shard.ts';
import { CONTROL } from '../parallel/shard-protocol.ts';

/** Operation codes. */
export const GBDT_OP = Object.freeze({
  gradients: 1,
  root: 2,
  splitMany: 3,
  addLeaves: 4,
  loss: 5,
  stop: 6,
  prepare: 7,
} as const);

/** `prepare` carries its sparse threshold as an integer argument, in millionths. */
export const THRESHOLD_SCALE = 1_000_000;

/** Integers per split in {@link GbdtWorkerData.splits}: node, left, right, feature, bin, buildLeft, skipHistogram. */
export const SPLIT_WORDS = 7;

/** Writes `split` as split `i` of `words`. */
export function writeSplit(words: Int32Array, i: number, split: ShardSplit): void {
  const at = i * SPLIT_WORDS;
  words[at] = split.node;
  words[at + 1] = split.left;
  words[at + 2] = split.right;
  words[at + 3] = split.feature;
  words[at + 4] = split.bin;
  words[at + 5] = split.buildLeft ? 1 : 0;
  words[at + 6] = split.skipHistogram ? 1 : 0;
}

function readSplit(words: Int32Array, i: number): ShardSplit {
  const at = i * SPLIT_WORDS;
  return {
    node: words[at] as number,
    left: words[at + 1] as number,
    right: words[at + 2] as number,
    feature: words[at + 3] as number,
    bin: words[at + 4] as number,
    buildLeft: words[at + 5] === 1,
    skipHistogram: words[at + 6] === 1,
  };
}

/** Shared memory of one worker (every array is a view of a SharedArrayBuffer). */
export interface GbdtWorkerData {
  /** Training data and per-row state, shared by all shards. */
  readonly buffers: GbdtBuffers;
  /** Command channel. */
  readonly control: Int32Array;
  /** The worker's error message, if its command threw. */
  readonly errorBytes: Uint8Array;
  /** Zero-based worker index (shard `index + 1`; shard 0 is the caller's). */
  readonly index: number;
  /** First global row of the shard. */
  readonly lo: number;
  /** One past the last global row of the shard. */
  readonly hi: number;
  /** Histograms one worker fills per command: one per split of a `splitMany`. */
  readonly splitCapacity: number;
  /** Every worker's histograms, `workers × splitCapacity × numFeatures × FEATURE_STRIDE`. */
  readonly histograms: Float64Array;
  /** The splits of a `splitMany`, {@link SPLIT_WORDS} integers each, `splitCapacity` at most. */
  readonly splits: Int32Array;
  /** Every shard's reduction results, two numbers per shard. */
  readonly results: Float64Array;
  /** Bins per feature, written by the caller before `prepare`. */
  readonly numBins: Int32Array;
  /** The current tree's features (the first `args[…]` of them). */
  readonly features: Int32Array;
  /** Every shard's `[start, end)` segment of `buffers.rows` for the current tree. */
  readonly segments: Int32Array;
  /** Leaf node ids for `addLeaves`. */
  readonly leafNodes: Float64Array;
  /** Leaf values for `addLeaves`. */
  readonly leafValues: Float64Array;
}

/** Runs command `op` (arguments in `data.control`) on `shard`. */
export function runShardCommand(args: { data: GbdtWorkerData; shard: RowShard; op: number }): void {
  const { data, shard, op } = args;
  const { control, buffers } = data;
  const arg = (i: number): number => control[CONTROL.args + i] as number;
  const shardIndex = data.index + 1;
  const histogramOf = (features: Int32Array, i: number): Float64Array => {
    const size = buffers.numFeatures * FEATURE_STRIDE;
    const first = (data.index * data.splitCapacity + i) * size;
    const histogram = data.histograms.subarray(first, first + size);
    for (let j = 0; j < features.length; j++) {
      const f = features[j] as number;
      const start = f * FEATURE_STRIDE;
      histogram.fill(0, start, start + (data.numBins[f] as number) * SLOT);
    }
    return histogram;
  };
  switch (op) {
    case GBDT_OP.prepare:
      shard.prepare({ sparseThreshold: arg(0) / THRESHOLD_SCALE });
      return;
    case GBDT_OP.gradients:
      shard.computeGradients({ objective: arg(0), output: arg(1) });
      return;
    case GBDT_OP.root: {
      const features = data.features.subarray(0, arg(0));
      const [grad, hess] = shard.root({
        start: data.segments[2 * shardIndex] as number,
        end: data.segments[2 * shardIndex + 1] as number,
        features,
        histogram: histogramOf(features, 0),
      });
      data.results[2 * shardIndex] = grad;
      data.results[2 * shardIndex + 1] = hess;
      return;
    }
    case GBDT_OP.splitMany: {
      const features = data.features.subarray(0, arg(0));
      for (let i = 0; i < arg(1); i++) {
        const split = readSplit(data.splits, i);
        // Zeroing a skipped histogram would be wasted work; the caller does not read it then.
        const histogram = split.skipHistogram ? data.histograms : histogramOf(features, i);
        shard.split({ split, features, histogram });
      }
      return;
    }
    case GBDT_OP.addLeaves:
      shard.addLeaves({ nodes: data.leafNodes, values: data.leafValues, count: arg(0), output: arg(1) });
      return;
    case GBDT_OP.loss:
      data.results[2 * shardIndex] = shard.lossSum(arg(0));
      return;
    default:
      throw new Error(`unknown GBDT shard command ${op}`);
  }
}
