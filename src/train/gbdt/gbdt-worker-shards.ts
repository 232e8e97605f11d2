/**
 * Data-parallel GBDT on one machine: the rows are cut into `workers` contiguous shards; the
 * calling thread works on shard 0 and one worker thread on each other shard, all over shared
 * memory. For every tree node each shard builds the histogram of its own rows, and the calling
 * thread sums them in shard order, so a model is identical for a seed and a worker count (another
 * worker count sums in another order and may differ in the last bits). Commands travel through
 * `Atomics` (see `shard-protocol.ts`), which costs microseconds instead of an event-loop round
 * trip; still, every command waits for the slowest thread (and on a busy machine for a descheduled
 * one to wake), so the set offers `splitMany` and a tree grows one command per depth
 * (`grow-tree-batched.ts`) rather than one per split.
 */
import { createRowShard, FEATURE_STRIDE, SLOT, type GbdtBuffers } from './row-shard.ts';
import type { ShardSet } from './shard-set.ts';
import { GBDT_OP, SPLIT_WORDS, THRESHOLD_SCALE, writeSplit, type GbdtWorkerData } from './gbdt-shard-commands.ts';
import { commandChannel, CONTROL, ERROR_BYTES } from '../parallel/shard-protocol.ts';

/** Options for {@link startWorkerShards}. */
export interface WorkerShardsOptions {
  /** Buffers in shared memory (`allocateGbdtBuffers({ shared: true })`). */
  readonly buffers: GbdtBuffers;
  /** Shards in all, >= 2: the calling thread plus `workers - 1` worker threads. */
  readonly workers: number;
  /** Most leaves a tree can have. */
  readonly maxLeaves: number;
  /** How long to wait for the workers to start. @default 60000 */
  readonly startTimeoutMs?: number;
}

const WORKER_ENTRY = new URL('./gbdt-shard-worker.ts', import.meta.url);

/**
 * Histogram memory per worker for one `splitMany` command. A depth's splits beyond what fits go in
 * further commands: 32 splits of 67 features take 9 MB, but 4,096 hashed text features take 17 MB
 * a histogram.
 */
const SPLIT_HISTOGRAM_BYTES = 64 * 1024 * 1024;

/**
 * Starts the worker threads and returns a {@link ShardSet} over them; the first command blocks
 * until they are ready. Call `close()` when done (also after an error): it stops and terminates
 * every thread.
 */
export function startWorkerShards(options: WorkerShardsOptions): ShardSet {
  const { buffers, workers, maxLeaves } = options;
  const numWorkers = workers - 1;
  const bound = (shard: number): number => Math.floor((shard * buffers.numRows) / workers);
  const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
  const histogramSize = buffers.numFeatures * FEATURE_STRIDE;
  // A depth has at most half the tree's leaves to split.
  const splitCapacity = Math.max(
    1,
    Math.min(Math.floor(maxLeaves / 2), Math.floor(SPLIT_HISTOGRAM_BYTES / (histogramSize * 8))),
  );
  const control = new Int32Array(sab(CONTROL.length * 4));
  const histograms = new Float64Array(sab(numWorkers * splitCapacity * histogramSize * 8));
  const splitWords = new Int32Array(sab(splitCapacity * SPLIT_WORDS * 4));
  const results = new Float64Array(sab(workers * 2 * 8));
  const features = new Int32Array(sab(buffers.numFeatures * 4));
  const numBins = new Int32Array(sab(buffers.numFeatures * 4));
  const segments = new Int32Array(sab(workers * 2 * 4));
  const leafNodes = new Float64Array(sab(maxLeaves * 8));
  const leafValues = new Float64Array(sab(maxLeaves * 8));
  const errorBytes = new Uint8Array(sab(ERROR_BYTES));

  // Worker w owns shard w + 1: the calling thread works on shard 0.
  const workerData = (w: number): GbdtWorkerData => ({
    buffers,
    control,
    errorBytes,
    index: w,
    lo: bound(w + 1),
    hi: bound(w + 2),
    splitCapacity,
    histograms,
    splits: splitWords,
    results,
    numBins,
    features,
    segments,
    leafNodes,
    leafValues,
  });
  const channel = commandChannel({
    workers: { entry: WORKER_ENTRY, size: numWorkers, name: 'stratum-gbdt-shard-worker', workerData },
    control,
    errorBytes,
    stop: GBDT_OP.stop,
    label: 'GBDT worker shards',
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  });
  const { run, close } = channel;
  const shard0 = createRowShard(buffers, { lo: 0, hi: bound(1) });
  let numSelected = 0;
  /** Adds each worker's histogram `i` of the last command into `histogram`, in shard order. */
  const addWorkerHistograms = (histogram: Float64Array, i: number): void => {
    for (let w = 0; w < numWorkers; w++) {
      const base = (w * splitCapacity + i) * histogramSize;
      for (let j = 0; j < numSelected; j++) {
        const f = features[j] as number;
        const start = f * FEATURE_STRIDE;
        const end = start + (numBins[f] as number) * SLOT;
        for (let i = start; i < end; i++) {
          histogram[i] = (histogram[i] as number) + (histograms[base + i] as number);
        }
      }
    }
  };

  const splitMany: NonNullable<ShardSet['splitMany']> = ({ splits, features: selected }) => {
    for (let first = 0; first < splits.length; first += splitCapacity) {
      const chunk = splits.slice(first, first + splitCapacity);
      chunk.forEach(({ split }, i) => writeSplit(splitWords, i, split));
      run(GBDT_OP.splitMany, [numSelected, chunk.length], () => {
        for (const { split, histogram } of chunk) shard0.split({ split, features: selected, histogram });
      });
      chunk.forEach(({ split, histogram }, i) => {
        if (!split.skipHistogram) addWorkerHistograms(histogram, i);
      });
    }
  };

  return {
    buffers,
    prepare: ({ sparseThreshold, numBins: bins }) => {
      numBins.set(bins);
      // Workers get the threshold as an integer, so this thread rounds it the same way.
      const scaled = Math.round(sparseThreshold * THRESHOLD_SCALE);
      run(GBDT_OP.prepare, [scaled], () => shard0.prepare({ sparseThreshold: scaled / THRESHOLD_SCALE }));
    },
    computeGradients: ({ objective, output }) =>
      run(GBDT_OP.gradients, [objective, output], () => shard0.computeGradients({ objective, output })),
    setRows: (rows) => {
      buffers.rows.set(rows);
      let start = 0;
      for (let s = 0; s < workers; s++) {
        // The first row at or past the shard's end, by binary search over the ascending rows.
        let end = start;
        let top = rows.length;
        const hi = bound(s + 1);
        while (end < top) {
          const mid = (end + top) >>> 1;
          if ((rows[mid] as number) < hi) end = mid + 1;
          else top = mid;
        }
        segments[2 * s] = start;
        segments[2 * s + 1] = end;
        start = end;
      }
    },
    root: ({ features: selected, histogram }) => {
      features.set(selected);
      numSelected = selected.length;
      let sums: [number, number] = [0, 0];
      run(GBDT_OP.root, [numSelected], () => {
        sums = shard0.root({
          start: segments[0] as number,
          end: segments[1] as number,
          features: selected,
          histogram,
        });
      });
      addWorkerHistograms(histogram, 0);
      let [grad, hess] = sums;
      for (let s = 1; s < workers; s++) {
        grad += results[2 * s] as number;
        hess += results[2 * s + 1] as number;
      }
      return [grad, hess];
    },
    split: ({ split, features: selected, histogram }) =>
      splitMany({ splits: [{ split, histogram }], features: selected }),
    splitMany,
    addLeaves: ({ nodes, values, count, output }) => {
      leafNodes.set(nodes.subarray(0, count));
      leafValues.set(values.subarray(0, count));
      run(GBDT_OP.addLeaves, [count, output], () => shard0.addLeaves({ nodes, values, count, output }));
    },
    lossSum: (objective) => {
      let total = 0;
      run(GBDT_OP.loss, [objective], () => {
        total = shard0.lossSum(objective);
      });
      for (let s = 1; s < workers; s++) total += results[2 * s] as number;
      return total;
    },
    close,
  };
}
