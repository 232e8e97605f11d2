/**
 * The block channel: every block of a command runs exactly once, on the calling thread or a
 * worker; the caller runs them all while no worker has started; a worker's failure or exit
 * surfaces as INTERNAL on the caller, and close() ends the threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { BLOCK_CONTROL, blockChannel } from '../../../src/train/parallel/block-channel.ts';
import { ERROR_BYTES } from '../../../src/train/parallel/shard-protocol.ts';

const BLOCKS = 8;

function start(options: { open: boolean } = { open: true }) {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  gate[0] = options.open ? 1 : 0;
  const control = new Int32Array(new SharedArrayBuffer(BLOCK_CONTROL.length * 4));
  const errorBytes = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  const owners = new Int32Array(new SharedArrayBuffer(BLOCKS * 4));
  const channel = blockChannel({
    workers: {
      entry: new URL('./block-worker.ts', import.meta.url),
      size: 1,
      name: 'test-block',
      workerData: () => ({ control, errorBytes, owners, gate }),
    },
    control,
    errorBytes,
    stop: 9,
    label: 'test block workers',
  });
  return { channel, owners, control, gate };
}

/** Until the worker has taken a block of the current command, the caller's block 0 holds on. */
function waitForWorkerBlock(owners: Int32Array, caller: number): void {
  for (;;) {
    for (let b = 0; b < BLOCKS; b++) if (b !== caller && Atomics.load(owners, b) === 1) return;
    Atomics.wait(owners, BLOCKS - 1, Atomics.load(owners, BLOCKS - 1), 50);
  }
}

const isInternal =
  (message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof StratumError && error.code === 'INTERNAL' && message.test(error.message);

test('the caller runs every block while no worker has started, and shares them once one has', async (t) => {
  const { channel, owners, gate } = start({ open: false });
  t.after(() => channel.close());
  // The worker is held before it serves anything: the command still completes, on the caller.
  channel.run({ op: 1, args: [], blocks: BLOCKS, local: (block) => Atomics.store(owners, block, 2) });
  assert.deepEqual(Array.from(owners), new Array(BLOCKS).fill(2));
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  // Block 0 waits until the worker has taken another one: both threads run blocks, each once.
  owners.fill(0);
  channel.run({
    op: 1,
    args: [],
    blocks: BLOCKS,
    local: (block) => {
      Atomics.store(owners, block, 2);
      if (block === 0) waitForWorkerBlock(owners, 0);
    },
  });
  const ran = Array.from(owners);
  assert.ok(
    ran.every((owner) => owner === 1 || owner === 2),
    `every block ran: ${ran.join(',')}`,
  );
  assert.ok(ran.includes(1) && ran.includes(2), `both threads ran blocks: ${ran.join(',')}`);
});

/** Holds the caller's first block until `control[index]` is non-zero (a worker's block is done, or it ended). */
function holdUntil(control: Int32Array, index: number): (block: number) => void {
  let held = false;
  return () => {
    if (held) return;
    held = true;
    while (Atomics.load(control, index) === 0) Atomics.wait(control, BLOCK_CONTROL.done, 0, 50);
  };
}

test("a worker's failing block is an INTERNAL error on the caller naming it", async () => {
  const { channel, control } = start();
  assert.throws(
    () => channel.run({ op: 2, args: [], blocks: BLOCKS, local: holdUntil(control, BLOCK_CONTROL.done) }),
    isInternal(/a worker thread failed: block \d ran out of rows/),
  );
  // The channel closed itself: it refuses further commands.
  assert.throws(() => channel.run({ op: 1, args: [], blocks: 1, local: () => {} }), isInternal(/used after close/));
  await channel.close();
});

test('a worker that ends while holding a block is an INTERNAL error on the caller', async () => {
  const { channel, control } = start();
  assert.throws(
    () => channel.run({ op: 3, args: [], blocks: BLOCKS, local: holdUntil(control, BLOCK_CONTROL.exited) }),
    isInternal(/a worker thread ended/),
  );
  await channel.close();
});
