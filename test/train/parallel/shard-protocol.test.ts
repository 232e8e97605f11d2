/**
 * The shared-memory command channel with real worker threads: commands run everywhere, a
 * worker's exception and a worker's exit become INTERNAL errors on the caller, and every thread
 * ends after close().
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { commandChannel, CONTROL, ERROR_BYTES } from '../../../src/train/parallel/shard-protocol.ts';

function startWorkers(count: number): {
  exits: Promise<unknown>[];
  results: Int32Array;
  channel: ReturnType<typeof commandChannel>;
} {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.length * 4));
  const errorBytes = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  const results = new Int32Array(new SharedArrayBuffer(4));
  const entry = new URL('./failing-shard-worker.ts', import.meta.url);
  const exited: (() => void)[] = [];
  const exits = Array.from({ length: count }, (_, i) => new Promise<void>((resolve) => (exited[i] = resolve)));
  const channel = commandChannel({
    workers: {
      entry,
      size: count,
      name: 'test-shard',
      workerData: () => ({ control, errorBytes, results }),
      onExit: (end) => exited[end.worker]?.(),
    },
    control,
    errorBytes,
    stop: 9,
    label: 'test workers',
  });
  return { exits, results, channel };
}

const isInternal =
  (message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof StratumError && error.code === 'INTERNAL' && message.test(error.message);

test('a command runs on every worker and on the calling thread', async () => {
  const { channel, results, exits } = startWorkers(2);
  let local = 0;
  channel.run(1, [5], () => {
    local++;
  });
  channel.run(1, [1], () => {
    local++;
  });
  assert.equal(results[0], 12);
  assert.equal(local, 2);
  await channel.close();
  await Promise.all(exits);
});

test("a worker's exception fails the command with its message and ends every thread", async () => {
  const { channel, exits } = startWorkers(2);
  assert.throws(
    () => channel.run(2, [], () => {}),
    isInternal(/test workers: a worker thread failed: shard 7 ran out of rows/),
  );
  await Promise.all(exits);
  assert.throws(() => channel.run(1, [1], () => {}), isInternal(/used after close/));
});

test("a worker's exit fails the command instead of hanging", async () => {
  const { channel, exits } = startWorkers(2);
  assert.throws(() => channel.run(3, [], () => {}), isInternal(/exited during the command/));
  await Promise.all(exits);
});

test("the calling thread's exception is rethrown as is after the workers finish", async () => {
  const { channel, exits } = startWorkers(1);
  assert.throws(
    () =>
      channel.run(1, [1], () => {
        throw new RangeError('local shard failed');
      }),
    RangeError,
  );
  await Promise.all(exits);
});
