/** A shard worker for the protocol tests: op 1 succeeds, op 2 throws, op 3 ends the thread. */
import process from 'node:process';
import { workerData } from 'node:worker_threads';
import { CONTROL, serveCommands, signalExit } from '../../../src/train/parallel/shard-protocol.ts';

const { control, errorBytes, results } = workerData as {
  control: Int32Array;
  errorBytes: Uint8Array;
  results: Int32Array;
};
signalExit(control);
serveCommands({
  control,
  errorBytes,
  stop: 9,
  handle: (op) => {
    if (op === 1) Atomics.add(results, 0, control[CONTROL.args] as number);
    if (op === 2) throw new Error('shard 7 ran out of rows');
    if (op === 3) process.exit(3);
  },
});
