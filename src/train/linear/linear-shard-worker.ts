/**
 * Worker-thread entry of data-parallel linear training: on each command, sums the loss and the
 * gradient over its share of the rows (see `linear-worker-shards.ts`) into its own slot.
 */
import { workerData } from 'node:worker_threads';
import { accumulateLinearLoss } from './linear-objective.ts';
import { LINEAR_OP, shardBounds, type LinearWorkerData } from './linear-shard-commands.ts';
import { CONTROL, serveCommands, signalExit } from '../parallel/shard-protocol.ts';

const data = workerData as LinearWorkerData;
const { control, shape, theta } = data;
const size = theta.length;
const gradient = data.gradients.subarray(data.index * size, (data.index + 1) * size);
signalExit(control);
serveCommands({
  control,
  errorBytes: data.errorBytes,
  stop: LINEAR_OP.stop,
  handle: (op) => {
    if (op !== LINEAR_OP.fullBatch && op !== LINEAR_OP.rowIndices)
      throw new Error(`unknown linear shard command ${op}`);
    const count = control[CONTROL.args] as number;
    const withGradient = control[CONTROL.args + 1] === 1;
    const [start, end] = shardBounds({ count, shards: data.workers, shard: data.index + 1 });
    if (withGradient) gradient.fill(0);
    data.totals[data.index] = accumulateLinearLoss({
      shape,
      data: data.data,
      theta,
      l2: 0,
      start,
      end,
      ...(op === LINEAR_OP.rowIndices ? { rowIndices: data.rowIndices } : {}),
      ...(withGradient ? { gradient } : {}),
    });
  },
});
