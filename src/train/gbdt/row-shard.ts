/**
 * The row-level work of GBDT training on one contiguous shard of the training rows: gradients,
 * per-node histograms, in-place row partitioning, leaf values into scores and the training loss.
 * Histograms and partitions read the shard's own copy of its bins, dense and sparse features apart
 * (`shard-layout.ts`); the shared row-major `bins` are only read to build it.
 * The same code runs on the calling thread (one shard, or shard 0) and in each worker thread
 * (the other shards), all over the same {@link GbdtBuffers}, which are shared memory when
 * workers are used. Every shard touches only its own rows, so shards never race.
 */

import { buildHistogram } from './shard-histogram.ts';
import { buildShardLayout, type ShardLayout } from './shard-layout.ts';
import { partitionRows } from './shard-partition.ts';

export { BIN_STRIDE, FEATURE_STRIDE, SLOT } from './histogram-slots.ts';

/** Objective codes, small integers so they travel in an `Int32Array` command. */
export const OBJECTIVE_CODE = Object.freeze({ regression: 0, binary: 1, multiclass: 2 } as const);

/** Training data and per-row state, laid out for streaming. */
export interface GbdtBuffers {
  /** Training rows N. */
  readonly numRows: number;
  /** Features F. */
  readonly numFeatures: number;
  /** Outputs K (1, or classes for multiclass). */
  readonly numOutputs: number;
  /** Row-major bins: feature `f` of row `r` is `bins[r * numFeatures + f]`. */
  readonly bins: Uint8Array;
  /** One label per row. */
  readonly labels: Float32Array;
  /**
   * Weight of each class in the loss, indexed by label (classifiers with class weights); empty when
   * every row weighs 1.
   */
  readonly classWeights: Float64Array;
  /** Raw scores, row-major `N × K`. */
  readonly scores: Float64Array;
  /** Softmax of the scores at the start of a round, `N × K` (multiclass only; else empty). */
  readonly probabilities: Float64Array;
  /** Gradient and hessian of the current tree, interleaved: `[g0, h0, g1, h1, …]`. */
  readonly gradHess: Float64Array;
  /** Row ids the current tree grows on; each shard reorders only its own segment. */
  readonly rows: Uint32Array;
}

/** A split to apply to a node. */
export interface ShardSplit {
  readonly node: number;
  readonly left: number;
  readonly right: number;
  readonly feature: number;
  /** `bin <= bin` goes left. */
  readonly bin: number;
  /** Build the left child's histogram (else the right one's). */
  readonly buildLeft: boolean;
  /** Build no histogram (the children are leaves at the depth limit). */
  readonly skipHistogram: boolean;
}

/** The work one shard does. */
export interface RowShard {
  /**
   * Lays out the shard's bins (dense and sparse features, see `shard-layout.ts`) once `bins` is
   * filled; call before any histogram. A feature is sparse when its most frequent bin holds more
   * than `sparseThreshold` of the shard's rows.
   */
  prepare(args: { sparseThreshold: number }): void;
  /** Writes gradients and hessians of output `output` for the shard's rows. */
  computeGradients(args: { objective: number; output: number }): void;
  /**
   * Starts a tree on `rows[start, end)` (the shard's segment) and adds its histogram over
   * `features` into `histogram` (which must be zero there); returns the gradient and hessian sums.
   */
  root(args: { start: number; end: number; features: Int32Array; histogram: Float64Array }): [number, number];
  /** Partitions the node's rows and adds the chosen child's histogram into `histogram`. */
  split(args: { split: ShardSplit; features: Int32Array; histogram: Float64Array }): void;
  /** Adds `values[i]` to output `output` of every row in leaf `nodes[i]`, for the first `count` leaves. */
  addLeaves(args: { nodes: Float64Array; values: Float64Array; count: number; output: number }): void;
  /** Sum (not mean) of the training loss over the shard's rows, each row times its class weight. */
  lossSum(objective: number): number;
}

/** Creates the shard owning rows `[lo, hi)` of `buffers`. */
export function createRowShard(buffers: GbdtBuffers, range: { lo: number; hi: number }): RowShard {
  const { numFeatures, numOutputs, bins, labels, classWeights, scores, probabilities, gradHess, rows } = buffers;
  const weighted = classWeights.length > 0;
  const { lo, hi } = range;
  const size = hi - lo;
  const scratch = new Uint32Array(size);
  const marks = new Uint16Array(size);
  const nodeStart: number[] = [];
  const nodeEnd: number[] = [];
  let layout: ShardLayout | undefined;
  const build = (args: {
    start: number;
    end: number;
    features: Int32Array;
    histogram: Float64Array;
  }): [number, number] => {
    if (layout === undefined) throw new Error('row shard used before prepare()');
    return buildHistogram({ ...args, layout, rows, gradHess });
  };

  return {
    prepare: ({ sparseThreshold }) => {
      layout = buildShardLayout({ bins, numFeatures, range, sparseThreshold });
    },

    computeGradients: ({ objective, output }) => {
      for (let i = lo; i < hi; i++) {
        const y = labels[i] as number;
        if (objective === OBJECTIVE_CODE.regression) {
          gradHess[2 * i] = (scores[i] as number) - y;
          gradHess[2 * i + 1] = 1;
          continue;
        }
        // A row of weight w counts as w rows: its loss, hence its gradient and hessian, scale by w.
        const w = weighted ? (classWeights[y] as number) : 1;
        if (objective === OBJECTIVE_CODE.binary) {
          const p = 1 / (1 + Math.exp(-(scores[i] as number)));
          gradHess[2 * i] = w * (p - y);
          gradHess[2 * i + 1] = w * Math.max(p * (1 - p), 1e-16);
        } else {
          const p = probabilities[i * numOutputs + output] as number;
          gradHess[2 * i] = w * (p - (y === output ? 1 : 0));
          gradHess[2 * i + 1] = w * Math.max(p * (1 - p), 1e-16);
        }
      }
    },

    root: ({ start, end, features, histogram }) => {
      nodeStart.length = 0;
      nodeEnd.length = 0;
      nodeStart[0] = start;
      nodeEnd[0] = end;
      return build({ start, end, features, histogram });
    },

    split: ({ split, features, histogram }) => {
      const start = nodeStart[split.node] as number;
      const end = nodeEnd[split.node] as number;
      if (layout === undefined) throw new Error('row shard used before prepare()');
      const left = partitionRows({
        layout,
        rows,
        start,
        end,
        feature: split.feature,
        bin: split.bin,
        scratch,
        marks,
      });
      nodeStart[split.left] = start;
      nodeEnd[split.left] = left;
      nodeStart[split.right] = left;
      nodeEnd[split.right] = end;
      if (split.skipHistogram) return;
      if (split.buildLeft) build({ start, end: left, features, histogram });
      else build({ start: left, end, features, histogram });
    },

    addLeaves: ({ nodes, values, count, output }) => {
      for (let leaf = 0; leaf < count; leaf++) {
        const node = nodes[leaf] as number;
        const value = values[leaf] as number;
        const end = nodeEnd[node] as number;
        for (let i = nodeStart[node] as number; i < end; i++) {
          const slot = (rows[i] as number) * numOutputs + output;
          scores[slot] = (scores[slot] as number) + value;
        }
      }
    },

    lossSum: (objective) => {
      let total = 0;
      for (let i = lo; i < hi; i++) {
        const y = labels[i] as number;
        if (objective === OBJECTIVE_CODE.regression) {
          const d = (scores[i] as number) - y;
          total += d * d;
        } else if (objective === OBJECTIVE_CODE.binary) {
          const p = 1 / (1 + Math.exp(-(scores[i] as number)));
          total -= (weighted ? (classWeights[y] as number) : 1) * Math.log(Math.max(y === 1 ? p : 1 - p, 1e-15));
        } else {
          const p = softmaxAt({ scores, base: i * numOutputs, numOutputs, output: y });
          total -= (weighted ? (classWeights[y] as number) : 1) * Math.log(Math.max(p, 1e-15));
        }
      }
      return total;
    },
  };
}

function softmaxAt(args: { scores: Float64Array; base: number; numOutputs: number; output: number }): number {
  const { scores, base, numOutputs, output } = args;
  let max = -Infinity;
  for (let k = 0; k < numOutputs; k++) max = Math.max(max, scores[base + k] as number);
  let sum = 0;
  for (let k = 0; k < numOutputs; k++) sum += Math.exp((scores[base + k] as number) - max);
  return Math.exp((scores[base + output] as number) - max) / sum;
}

/** Allocates the buffers for `numRows` rows; in shared memory when worker threads will use them. */
export function allocateGbdtBuffers(options: {
  numRows: number;
  numFeatures: number;
  numOutputs: number;
  shared: boolean;
  /** One weight per class, copied into the buffers. @default none (every row weighs 1) */
  classWeights?: Float64Array | undefined;
}): GbdtBuffers {
  const { numRows, numFeatures, numOutputs, shared } = options;
  const weights = options.classWeights ?? new Float64Array(0);
  const memory = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
    shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const buffers: GbdtBuffers = {
    numRows,
    numFeatures,
    numOutputs,
    bins: new Uint8Array(memory(numRows * numFeatures)),
    labels: new Float32Array(memory(numRows * 4)),
    classWeights: new Float64Array(memory(weights.byteLength)),
    scores: new Float64Array(memory(numRows * numOutputs * 8)),
    probabilities: new Float64Array(memory(numOutputs > 1 ? numRows * numOutputs * 8 : 0)),
    gradHess: new Float64Array(memory(numRows * 16)),
    rows: new Uint32Array(memory(numRows * 4)),
  };
  buffers.classWeights.set(weights);
  return buffers;
}
