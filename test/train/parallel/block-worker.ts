/** A block-channel worker for the tests: op 1 records its blocks, op 2 throws, op 3 ends the thread. */
import process from 'node:process';
import { workerData } from 'node:worker_threads';
import { serveBlocks } from '../../../src/train/parallel/block-channel.ts';
import { signalExit } from '../../../src/train/parallel/shard-protocol.ts';

const { control, errorBytes, owners, gate } = workerData as {
  control: Int32Array;
  errorBytes: Uint8Array;
  /** Who ran each block: 1 for this worker (the caller writes 2). */
  owners: Int32Array;
  /** The worker serves no command while `gate[0]` is 0: a worker that has not started yet. */
  gate: Int32Array;
};
signalExit(control);
while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0, 100);
serveBlocks({
  control,
  errorBytes,
  stop: 9,
  handle: (op, block) => {
    if (op === 2) throw new Error(`block ${block} ran out of rows`);
    if (op === 3) process.exit(3);
    Atomics.store(owners, block, 1);
    Atomics.notify(owners, block);
  },
});
