/**
 * Data-parallel evaluation of a linear model's objective and gradient: the rows (all of them for
 * L-BFGS, a mini-batch for Adam/SGD) are cut into the blocks `linearBlocks` chooses, which the
 * calling thread and `workers − 1` worker threads claim one at a time; each block's sums go to
 * its own slot and the caller adds the slots in block order, exactly as `linearObjective` does on
 * one thread, so any worker count gives the same bits. The optimiser step stays on the caller.
 * The caller never waits for the workers to start: until they do, it claims every block itself.
 */
import {
  accumulateLinearLoss,
  blockRows,
  finishLinearObjective,
  linearBlocks,
  MAX_LINEAR_BLOCKS,
  type LinearData,
  type LinearObjectiveOptions,
  type LinearObjectiveValue,
  type LinearShape,
} from './linear-objective.ts';
import type { SparseRows } from './sparse-rows.ts';
import { LINEAR_OP, type LinearWorkerData } from './linear-shard-commands.ts';
import { blockChannel, BLOCK_CONTROL } from '../parallel/block-channel.ts';
import { ERROR_BYTES } from '../parallel/shard-protocol.ts';

/** A data-parallel replacement for `linearObjective` over one data set. */
export interface LinearShards {
  /** Same contract and bits as `linearObjective` on the shards' data (`data` and `shape` are fixed). */
  evaluate(options: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>): LinearObjectiveValue;
  /** Stops and terminates the worker threads; idempotent. */
  close(): Promise<void>;
}

const WORKER_ENTRY = new URL('./linear-shard-worker.ts', import.meta.url);

/** Starts `workers - 1` worker threads over a shared copy of `data`. */
export function startLinearShards(options: { shape: LinearShape; data: LinearData; workers: number }): LinearShards {
  const { shape, workers } = options;
  const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
  const labels = new Float64Array(sab(options.data.rows * 8));
  for (let i = 0; i < options.data.rows; i++) labels[i] = options.data.labels[i] as number;
  const data: LinearData = { ...sharedFeatures(options.data), labels, rows: options.data.rows };
  const theta = new Float64Array(sab(size * 8));
  const rowIndices = new Uint32Array(sab(options.data.rows * 4));
  const gradients = new Float64Array(sab(MAX_LINEAR_BLOCKS * size * 8));
  const totals = new Float64Array(sab(MAX_LINEAR_BLOCKS * 8));
  const control = new Int32Array(sab(BLOCK_CONTROL.length * 4));
  const errorBytes = new Uint8Array(sab(ERROR_BYTES));
  const shared: LinearWorkerData = { shape, data, theta, rowIndices, gradients, totals, control, errorBytes };
  const channel = blockChannel({
    workers: { entry: WORKER_ENTRY, size: workers - 1, name: 'stratum-linear-shard-worker', workerData: () => shared },
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
      const batch = indices === undefined ? {} : { rowIndices: rowIndices.subarray(0, count) };
      const blocks = linearBlocks({ shape, data, ...batch });
      channel.run({
        op: indices === undefined ? LINEAR_OP.fullBatch : LINEAR_OP.rowIndices,
        args: [count, gradient === undefined ? 0 : 1, blocks],
        blocks,
        local: (block) => {
          const [start, end] = blockRows({ count, blocks, block });
          const slot =
            gradient === undefined ? undefined : gradients.subarray(block * size, (block + 1) * size).fill(0);
          totals[block] = accumulateLinearLoss({
            shape,
            data,
            theta,
            l2,
            start,
            end,
            ...batch,
            ...(slot === undefined ? {} : { gradient: slot }),
          });
        },
      });
      // The blocks in block order, as `linearObjective` adds them.
      let total = totals[0] as number;
      for (let b = 1; b < blocks; b++) total += totals[b] as number;
      if (gradient !== undefined) {
        for (let i = 0; i < size; i++) {
          let sum = gradients[i] as number;
          for (let b = 1; b < blocks; b++) sum += gradients[b * size + i] as number;
          gradient[i] = sum;
        }
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
function shareCopy<T extends Float32Array | Int32Array | Uint32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}
