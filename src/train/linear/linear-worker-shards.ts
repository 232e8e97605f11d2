/**
 * Data-parallel evaluation of a linear model's objective and gradient: the rows (all of them for
 * L-BFGS, a mini-batch for Adam/SGD) are cut into the blocks `linearBlocks` chooses, which the
 * calling thread and `workers − 1` worker threads claim one at a time; each block's sums go to
 * its own slot and the caller adds the slots in block order, exactly as `linearObjective` does on
 * one thread, so any worker count gives the same bits. The optimiser step stays on the caller.
 * The caller never waits for the workers to start: until they do, it claims every block itself.
 *
 * The threads can start before the features are ready: they are handed a shared home for the
 * features (room for the CSR copy and for the dense matrix, backed by memory only where written),
 * so the caller scans the features into it while the threads start.
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
import { sparseRowsBuffers } from './sparse-rows.ts';
import { LINEAR_LAYOUT, LINEAR_OP, type LinearFeatureHome, type LinearWorkerData } from './linear-shard-commands.ts';
import { blockChannel, BLOCK_CONTROL, type BlockChannel } from '../parallel/block-channel.ts';
import { ERROR_BYTES } from '../parallel/shard-protocol.ts';
import { StratumError } from '../../errors/index.ts';

/** A data-parallel replacement for `linearObjective` over one data set. */
export interface LinearShards {
  /** Same contract and bits as `linearObjective` on the shards' data (`data` and `shape` are fixed). */
  evaluate(options: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>): LinearObjectiveValue;
  /** Stops and terminates the worker threads; idempotent. */
  close(): Promise<void>;
}

/**
 * A shared home for `rows × numFeatures` features: room for their CSR copy and for the dense
 * matrix, on shared memory that is backed only where it is written (so the unused half costs
 * address space, not memory). One cost remains: on dense features the scan has filled the CSR
 * room up to the density threshold (half the matrix's bytes) before it knows, and those pages
 * stay backed while the threads live, where a scan into buffers of its own dropped them.
 */
export function linearFeatureHome(options: { rows: number; numFeatures: number }): LinearFeatureHome {
  const { rows, numFeatures } = options;
  return {
    sparse: sparseRowsBuffers({ rows, numFeatures, shared: true }),
    dense: new Float32Array(new SharedArrayBuffer(rows * numFeatures * 4)),
  };
}

/** Worker threads that are starting, before their features are ready. */
export interface StartingLinearShards {
  /** Where the features go: scan them into `home.sparse`, or let {@link attach} copy them to `home.dense`. */
  readonly home: LinearFeatureHome;
  /**
   * The shards over `data`: its `sparse` rows must be the ones built in `home.sparse`; without
   * them its dense features are copied to `home.dense` (unless they are that array already).
   * @throws StratumError INTERNAL when the CSR rows live elsewhere.
   */
  attach(data: LinearData): LinearShards;
  /** Stops and terminates the worker threads; idempotent. */
  close(): Promise<void>;
}

const WORKER_ENTRY = new URL('./linear-shard-worker.ts', import.meta.url);

/**
 * Starts `workers - 1` worker threads (without waiting for them) over a shared home for
 * `rows × shape.numFeatures` features and a shared copy of the labels.
 */
export function startLinearThreads(options: {
  shape: LinearShape;
  labels: ArrayLike<number>;
  rows: number;
  workers: number;
  /** The features' home, when the caller made it already. @default a new {@link linearFeatureHome} */
  home?: LinearFeatureHome;
}): StartingLinearShards {
  const { shape, rows, workers } = options;
  const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
  const labels = new Float64Array(sab(rows * 8));
  for (let i = 0; i < rows; i++) labels[i] = options.labels[i] as number;
  const home = options.home ?? linearFeatureHome({ rows, numFeatures: shape.numFeatures });
  const theta = new Float64Array(sab(size * 8));
  const rowIndices = new Uint32Array(sab(rows * 4));
  const gradients = new Float64Array(sab(MAX_LINEAR_BLOCKS * size * 8));
  const totals = new Float64Array(sab(MAX_LINEAR_BLOCKS * 8));
  const control = new Int32Array(sab(BLOCK_CONTROL.length * 4));
  const errorBytes = new Uint8Array(sab(ERROR_BYTES));
  const shared: LinearWorkerData = {
    shape,
    rows,
    labels,
    home,
    theta,
    rowIndices,
    gradients,
    totals,
    control,
    errorBytes,
  };
  const channel = blockChannel({
    workers: { entry: WORKER_ENTRY, size: workers - 1, name: 'stratum-linear-shard-worker', workerData: () => shared },
    control,
    errorBytes,
    stop: LINEAR_OP.stop,
    label: 'linear worker shards',
  });
  const close = (): Promise<void> => channel.close();
  return {
    home,
    attach: (given) => {
      const { sparse } = given;
      if (sparse !== undefined && sparse.offsets.buffer !== home.sparse.offsets.buffer) {
        throw new StratumError('INTERNAL', 'linear worker shards: the CSR rows were not built in the shared home');
      }
      if (sparse === undefined && given.features !== home.dense) home.dense.set(given.features);
      const data: LinearData =
        sparse === undefined ? { features: home.dense, labels, rows } : { features: home.dense, sparse, labels, rows };
      const layout = sparse === undefined ? LINEAR_LAYOUT.dense : LINEAR_LAYOUT.sparse;
      return {
        evaluate: (point) => evaluateOnThreads({ shape, data, layout, point, shared, channel }),
        close,
      };
    },
    close,
  };
}

/** Starts the worker threads over `data` in one step (see {@link startLinearThreads}). */
export function startLinearShards(options: { shape: LinearShape; data: LinearData; workers: number }): LinearShards {
  const { shape, data, workers } = options;
  const starting = startLinearThreads({ shape, labels: data.labels, rows: data.rows, workers });
  const { sparse } = data;
  if (sparse === undefined) return starting.attach(data);
  const { offsets, columns, values } = starting.home.sparse;
  const entries = sparse.offsets[data.rows] as number;
  offsets.set(sparse.offsets);
  columns.set(sparse.columns.subarray(0, entries));
  values.set(sparse.values.subarray(0, entries));
  return starting.attach({ ...data, sparse: { ...sparse, offsets, columns, values } });
}

function evaluateOnThreads(args: {
  shape: LinearShape;
  data: LinearData;
  layout: number;
  point: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>;
  shared: Pick<LinearWorkerData, 'theta' | 'rowIndices' | 'gradients' | 'totals'>;
  channel: BlockChannel;
}): LinearObjectiveValue {
  const { shape, data, layout, channel } = args;
  const { theta: point, l2, rowIndices: indices, gradient } = args.point;
  const { theta, rowIndices, gradients, totals } = args.shared;
  const size = theta.length;
  theta.set(point);
  const count = indices === undefined ? data.rows : indices.length;
  if (indices !== undefined) rowIndices.set(indices);
  const batch = indices === undefined ? {} : { rowIndices: rowIndices.subarray(0, count) };
  const blocks = linearBlocks({ shape, data, ...batch });
  channel.run({
    op: indices === undefined ? LINEAR_OP.fullBatch : LINEAR_OP.rowIndices,
    args: [count, gradient === undefined ? 0 : 1, blocks, layout],
    blocks,
    local: (block) => {
      const [start, end] = blockRows({ count, blocks, block });
      const slot = gradient === undefined ? undefined : gradients.subarray(block * size, (block + 1) * size).fill(0);
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
}
