/**
 * Worker-thread entry of data-parallel linear training: on each command, claims blocks of the rows
 * (see `linear-worker-shards.ts`) and sums each block's loss and gradient into that block's slot.
 */
import { workerData } from 'node:worker_threads';
import { accumulateLinearLoss, blockRows } from './linear-objective.ts';
import { LINEAR_OP, type LinearWorkerData } from './linear-shard-commands.ts';
import { BLOCK_CONTROL, serveBlocks } from '../parallel/block-channel.ts';
import { signalExit } from '../parallel/shard-protocol.ts';

const data = workerData as LinearWorkerData;
const { control, shape, theta } = data;
const size = theta.length;
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
    const [start, end] = blockRows({ count, blocks, block });
    const gradient = withGradient ? data.gradients.subarray(block * size, (block + 1) * size).fill(0) : undefined;
    data.totals[block] = accumulateLinearLoss({
      shape,
      data: data.data,
      theta,
      l2: 0,
      start,
      end,
      ...(op === LINEAR_OP.rowIndices ? { rowIndices: data.rowIndices } : {}),
      ...(gradient === undefined ? {} : { gradient }),
    });
  },
});
