/**
 * The GBDT shard commands and their shared memory: what a worker receives at start
 * ({@link GbdtWorkerData}) and how it runs each command on its shard ({@link runShardCommand}).
 */
import { FEATURE_STRIDE, SLOT, type GbdtBuffers, type RowShard } from './row-shard.ts';
import { CONTROL } from '../parallel/shard-protocol.ts';

/** Operation codes. */
export const GBDT_OP = Object.freeze({
  gradients: 1,
  root: 2,
  split: 3,
  addLeaves: 4,
  loss: 5,
  stop: 6,
  prepare: 7,
} as const);

/** `prepare` carries its sparse threshold as an integer argument, in millionths. */
export const THRESHOLD_SCALE = 1_000_000;

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
  /** Every worker's histogram, `workers × numFeatures × FEATURE_STRIDE`. */
  readonly histograms: Float64Array;
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
  const histogramOf = (features: Int32Array): Float64Array => {
    const size = buffers.numFeatures * FEATURE_STRIDE;
    const histogram = data.histograms.subarray(data.index * size, (data.index + 1) * size);
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
        histogram: histogramOf(features),
      });
      data.results[2 * shardIndex] = grad;
      data.results[2 * shardIndex + 1] = hess;
      return;
    }
    case GBDT_OP.split: {
      const features = data.features.subarray(0, arg(0));
      const split = {
        node: arg(1),
        left: arg(2),
        right: arg(3),
        feature: arg(4),
        bin: arg(5),
        buildLeft: arg(6) === 1,
        skipHistogram: arg(7) === 1,
      };
      // Zeroing a skipped histogram would be wasted work; the caller does not read it then.
      shard.split({ split, features, histogram: split.skipHistogram ? data.histograms : histogramOf(features) });
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
