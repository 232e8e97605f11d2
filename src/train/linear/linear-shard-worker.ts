/**
 * Worker-thread entry of data-parallel linear training: on each command, claims blocks of the rows
 * (see `linear-worker-shards.ts`) and sums each block's loss and gradient into that block's slot.
 */
import { workerData } from 'node:worker_threads';
import { accumulateLinearLoss, blockRows, type LinearData } from './linear-objective.ts';
import { LINEAR_LAYOUT, LINEAR_OP, type LinearWorkerData } from './linear-shard-commands.ts';
import { BLOCK_CONTROL, serveBlocks } from '../parallel/block-channel.ts';
import { signalExit } from '../parallel/shard-protocol.ts';

const data = workerData as LinearWorkerData;
const { control, shape, theta, rows, labels, home } = data;
const size = theta.length;
// The CSR arrays have room to spare; the offsets bound what a block reads.
const sparse: LinearData = {
  features: home.dense,
  sparse: { rows, numFeatures: shape.numFeatures, ...home.sparse },
  labels,
  rows,
};
const dense: LinearData = { features: home.dense, labels, rows };
signalExit(control);
serveBlocks({
  control,
  errorBytes: data.errorBytes,
  stop: LINEAR_OP.stop,
  handle: (op, block) => {
    if (op !== LINEAR_OP.fullBatch && op !== LINEAR_OP.rowIndices)
      throw new Error(`unknown linear shard command ${op}`);
    const count = Atomics.load(control, BLOCK_CONTROL.args);
    const withGradient = Atomics.load(control, BLOCK_CONTROL.args + 1) === 1;
    const blocks = Atomics.load(control, BLOCK_CONTROL.args + 2);
    const layout = Atomics.load(control, BLOCK_CONTROL.args + 3);
    const [start, end] = blockRows({ count, blocks, block });
    const gradient = withGradient ? data.gradients.subarray(block * size, (block + 1) * size).fill(0) : undefined;
    data.totals[block] = accumulateLinearLoss({
      shape,
      data: layout === LINEAR_LAYOUT.sparse ? sparse : dense,
      theta,
      l2: 0,
      start,
      end,
      ...(op === LINEAR_OP.rowIndices ? { rowIndices: data.rowIndices } : {}),
      ...(gradient === undefined ? {} : { gradient }),
    });
  },
});
