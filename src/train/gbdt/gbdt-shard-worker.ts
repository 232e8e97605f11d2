/**
 * Worker-thread entry of data-parallel GBDT training: owns one shard of the rows (see
 * `src/train/gbdt/row-shard.ts`) and runs the caller's commands on it until told to stop.
 */
import { workerData } from 'node:worker_threads';
import { createRowShard } from './row-shard.ts';
import { runShardCommand, type GbdtWorkerData, GBDT_OP } from './gbdt-shard-commands.ts';
import { serveCommands, signalExit } from '../parallel/shard-protocol.ts';

const data = workerData as GbdtWorkerData;
const { control } = data;
signalExit(control);
const shard = createRowShard(data.buffers, { lo: data.lo, hi: data.hi });
serveCommands({
  control,
  errorBytes: data.errorBytes,
  stop: GBDT_OP.stop,
  handle: (op) => runShardCommand({ data, shard, op }),
});
