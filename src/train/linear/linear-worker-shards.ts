/**
 * Data-parallel evaluation of a linear model's objective and gradient: the rows (all of them for
 * L-BFGS, a mini-batch for Adam/SGD) are cut into `workers` contiguous shares; the calling thread
 * sums share 0 and a worker thread each other share, and the caller adds the partial sums in
 * share order (an all-reduce with a fixed order, so results are identical for a worker count;
 * another count may differ in the last bits). The optimiser step stays on the calling thread.
 */
import {
  accumulateLinearLoss,
  finishLinearObjective,
  type LinearData,
  type LinearObjectiveOptions,
  type LinearObjectiveValue,
  type LinearShape,
} from './linear-objective.ts';
import type { SparseRows } from './sparse-rows.ts';
import { LINEAR_OP, shardBounds, type LinearWorkerData } from './linear-shard-commands.ts';
import { commandChannel, CONTROL, ERROR_BYTES } from '../parallel/shard-protocol.ts';

/** A data-parallel replacement for `linearObjective` over one data set. */
export interface LinearShards {
  /** Same contract as `linearObjective` on the shards' data (`data` and `shape` are fixed). */
  evaluate(options: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>): LinearObjectiveValue;
  /** Stops and terminates the worker threads; idempotent. */
  close(): Promise<void>;
}

const WORKER_ENTRY = new URL('./linear-shard-worker.ts', import.meta.url);

/** Starts `workers - 1` worker threads over a shared copy of `data`. */
export function startLinearShards(options: { shape: LinearShape; data: LinearData; workers: number }): LinearShards {
  const { shape, workers } = options;
  const numWorkers = workers - 1;
  const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
  const labels = new Float64Array(sab(options.data.rows * 8));
  for (let i = 0; i < options.data.rows; i++) labels[i] = options.data.labels[i] as number;
  const data: LinearData = { ...sharedFeatures(options.data), labels, rows: options.data.rows };
  const theta = new Float64Array(sab(size * 8));
  const rowIndices = new Uint32Array(sab(options.data.rows * 4));
  const gradients = new Float64Array(sab(numWorkers * size * 8));
  const totals = new Float64Array(sab(numWorkers * 8));
  const control = new Int32Array(sab(CONTROL.length * 4));
  const errorBytes = new Uint8Array(sab(ERROR_BYTES));
  // Worker w sums share w + 1: the calling thread sums share 0.
  const workerData = (w: number): LinearWorkerData => ({
    shape,
    data,
    theta,
    rowIndices,
    gradients,
    totals,
    control,
    errorBytes,
    index: w,
    workers,
  });
  const channel = commandChannel({
    workers: { entry: WORKER_ENTRY, size: numWorkers, name: 'stratum-linear-shard-worker', workerData },
    control,
    errorBytes,
    stop: LINEAR_OP.stop,
    label: 'linear worker shards',
  });

  return {
    evaluate: ({ theta: point, l2, rowIndices: indices, gradient }) => {
      theta.set(point);
      const count = indices === undefined ? data.rows : indices.length;
      if (indices !== undefined) rowIndices.set(indices);
      const op = indices === undefined ? LINEAR_OP.fullBatch : LINEAR_OP.rowIndices;
      gradient?.fill(0);
      let total = 0;
      channel.run(op, [count, gradient === undefined ? 0 : 1], () => {
        const [start, end] = shardBounds({ count, shards: workers, shard: 0 });
        total = accumulateLinearLoss({
          shape,
          data,
          theta: point,
          l2,
          start,
          end,
          ...(indices === undefined ? {} : { rowIndices: indices }),
          ...(gradient === undefined ? {} : { gradient }),
        });
      });
      for (let w = 0; w < numWorkers; w++) {
        total += totals[w] as number;
        if (gradient === undefined) continue;
        const base = w * size;
        for (let i = 0; i < size; i++) gradient[i] = (gradient[i] as number) + (gradients[base + i] as number);
      }
      return finishLinearObjective({
        shape,
        theta: point,
        l2,
        total,
        count,
        ...(gradient === undefined ? {} : { gradient }),
      });
    },
    close: () => channel.close(),
  };
}

/** The features in shared memory: the CSR rows when given (no dense copy needed), else the dense matrix. */
function sharedFeatures(data: LinearData): Pick<LinearData, 'features' | 'sparse'> {
  const { sparse } = data;
  if (sparse === undefined) return { features: shareCopy(data.features) };
  const shared: SparseRows = {
    rows: sparse.rows,
    numFeatures: sparse.numFeatures,
    offsets: shareCopy(sparse.offsets),
    columns: shareCopy(sparse.columns),
    values: shareCopy(sparse.values),
  };
  return { features: new Float32Array(0), sparse: shared };
}

/** `array` itself when it already lives on a SharedArrayBuffer, else a copy on one. */
function shareCopy<T extends Float32Array | Uint16Array | Uint32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}
