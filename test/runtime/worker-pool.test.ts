/**
 * The shared worker pool with real threads: replies reach their requests by id in any order,
 * buffers move, routing goes to the least busy worker, every request is settled (a detached
 * buffer refused up front, a worker's exit or crash, close), an idle `while-busy` pool lets the
 * process end, and a graceful pool waits for a worker's ready signal before ending it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import {
  createWorkerPool,
  type WorkerEnd,
  type WorkerLoss,
  type WorkerPoolOptions,
} from '../../src/runtime/worker-pool.ts';
import { threadsEnded } from '../helpers/os-threads.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  TEST_WORKER_ENTRY,
  TEST_WORKER_READY,
  type TestReply,
  type TestRequest,
  type TestWorkerData,
} from './pool-test-protocol.ts';

/** A pool of test workers, one by default; the ends of its workers are recorded. */
function startPool(
  options: Partial<WorkerPoolOptions<TestRequest>> & { readonly data?: Omit<TestWorkerData, 'index'> } = {},
) {
  const ends: WorkerEnd[] = [];
  const { data, ...rest } = options;
  const pool = createWorkerPool<TestRequest, TestReply>({
    entry: TEST_WORKER_ENTRY,
    size: 1,
    name: 'test-pool',
    workerData: (index) => ({ index, ...data }) satisfies TestWorkerData,
    readySignal: TEST_WORKER_READY,
    onExit: (end) => ends.push(end),
    ...rest,
  });
  return { pool, ends };
}

const isLoss =
  (kind: WorkerLoss['kind'], message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof StratumError &&
    error.code === 'INTERNAL' &&
    error.details?.['loss'] === kind &&
    message.test(error.message);

test('replies reach their requests by id, in any order, and transferred buffers move', async (t) => {
  const { pool } = startPool();
  t.after(() => pool.close());
  const order: string[] = [];
  const held = pool
    .request(0, { id: pool.nextId(), op: 'hold', value: 'held' })
    .then((r) => order.push(String(r.value)));
  const echoed = pool
    .request(0, { id: pool.nextId(), op: 'echo', value: 'echo' })
    .then((r) => order.push(String(r.value)));
  await echoed;
  const released = pool.request(0, { id: pool.nextId(), op: 'release', value: 'release' });
  await Promise.all([held, released]);
  assert.deepEqual(order, ['echo', 'held']);

  const data = Float32Array.from([1, 2, 3.5]);
  const sum = await pool.request(0, { id: pool.nextId(), op: 'sum', data }, [data.buffer]);
  assert.equal(sum.value, 6.5);
  assert.equal(data.byteLength, 0, 'the buffer was moved, not copied');
  // An empty buffer is not a detached one: it is sent.
  const empty = new Float32Array(0);
  assert.equal((await pool.request(0, { id: pool.nextId(), op: 'sum', data: empty }, [empty.buffer])).value, 0);
});

test('least-busy routing goes to the live worker owing the fewest replies', async (t) => {
  const { pool } = startPool({ size: 3 });
  t.after(() => pool.close());
  const holds = [0, 1, 2, 3, 4].map(() => pool.request('least-busy', { id: pool.nextId(), op: 'hold' }));
  const echo = await pool.request('least-busy', { id: pool.nextId(), op: 'echo' });
  assert.equal(echo.worker, 2, 'workers 0 and 1 owe two replies, worker 2 one');
  await Promise.all([0, 1, 2].map((w) => pool.request(w, { id: pool.nextId(), op: 'release' })));
  // Equals go to the first: 0, 1, 2, then 0 and 1 again.
  assert.deepEqual(
    (await Promise.all(holds)).map((r) => r.worker),
    [0, 1, 2, 0, 1],
  );
});

test('a transfer list holding a detached buffer is refused before anything is sent', async (t) => {
  // Node would drop the message without an error and the request would wait forever.
  const { pool } = startPool();
  t.after(() => pool.close());
  const data = Float32Array.from([1, 2]);
  structuredClone(data.buffer, { transfer: [data.buffer] });
  await assert.rejects(
    pool.request(0, { id: pool.nextId(), op: 'sum', data }, [data.buffer]),
    isLoss('detached', /^test-pool: cannot be sent to worker 0: transfer-list item 0 is a detached ArrayBuffer$/),
  );
  await assert.rejects(
    pool.request(0, { id: pool.nextId(), op: 'echo', value: () => 1 }),
    isLoss('unsendable', /^test-pool: cannot be sent to worker 0: DataCloneError/),
  );
  assert.equal(
    (await pool.request(0, { id: pool.nextId(), op: 'echo', value: 'still serving' })).value,
    'still serving',
  );
});

test("a worker's exit or crash rejects the requests it held; a replacement serves again", async (t) => {
  const { pool, ends } = startPool({ size: 2 });
  t.after(() => pool.close());
  const held = pool.request(0, { id: pool.nextId(), op: 'hold' });
  const exit = pool.request(0, { id: pool.nextId(), op: 'exit' });
  for (const request of [held, exit]) {
    await assert.rejects(request, isLoss('ended', /^test-pool: worker 0 exited with code 3 before replying$/));
  }
  assert.equal(ends.length, 1);
  assert.deepEqual(ends[0], { kind: 'ended', worker: 0, code: 3, crash: undefined, closing: false });
  // An ended worker takes no requests and is not routed to.
  await assert.rejects(
    pool.request(0, { id: pool.nextId(), op: 'echo' }),
    isLoss('closed', /^test-pool: the workers are closed$/),
  );
  assert.equal((await pool.request('least-busy', { id: pool.nextId(), op: 'echo' })).worker, 1);

  await assert.rejects(
    pool.request(1, { id: pool.nextId(), op: 'crash' }),
    isLoss('ended', /^test-pool: worker 1 crashed \(the test worker crashed\) before replying$/),
  );
  assert.equal(ends[1]?.crash?.message, 'the test worker crashed');
  pool.replace(0);
  pool.replace(1);
  assert.equal((await pool.request(0, { id: pool.nextId(), op: 'echo', value: 'back' })).value, 'back');
  assert.equal((await pool.request(1, { id: pool.nextId(), op: 'echo', value: 'back' })).value, 'back');
});

test('close is idempotent, rejects what is unanswered and every later request', async () => {
  const { pool, ends } = startPool({ size: 2 });
  const held = pool.request(1, { id: pool.nextId(), op: 'hold' });
  held.catch(() => undefined);
  await waitFor('the workers to start', () => pool.ready);
  const first = pool.close();
  assert.equal(pool.close(), first);
  await first;
  await assert.rejects(held, isLoss('ended', /worker 1 was terminated \(the pool was closed\) before replying/));
  await assert.rejects(pool.request(0, { id: pool.nextId(), op: 'echo' }), isLoss('closed', /the workers are closed/));
  assert.deepEqual(
    ends.map((end) => end.closing),
    [true, true],
  );
  await threadsEnded();
});

test(
  'an idle while-busy pool lets the process end; one owing a reply keeps it alive',
  { timeout: 120_000 },
  async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./pool-keep-alive-child.ts', import.meta.url).pathname],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(output, 'held reply\n', 'the process waited for the reply');
    assert.equal(code, 0, 'and then ended with the pool still open');
  },
);

test('a graceful pool ends a worker only after its ready signal: close message first, terminate after the grace', async () => {
  // terminate(): waits for the ready signal (onnxruntime loaded) before terminating the thread.
  const gate = new Int32Array(new SharedArrayBuffer(12));
  const readyWhenEnded: number[] = [];
  const { pool } = startPool({
    data: { gate },
    shutdown: { message: 'close', graceMs: 60_000 },
    onExit: () => readyWhenEnded.push(Atomics.load(gate, 1)),
  });
  const terminated = pool.terminate(0);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  await terminated;
  assert.deepEqual(readyWhenEnded, [1], 'the worker had signalled ready before it was terminated');
  await pool.close();

  // close(): the worker is asked to end, and ends by itself (exit code 0, not terminate's 1).
  const ends: number[] = [];
  const graceful = startPool({
    data: { gate },
    shutdown: { message: 'close', graceMs: 60_000 },
    onExit: (end) => ends.push(end.code),
  }).pool;
  await graceful.close();
  await graceful.close();
  assert.deepEqual(ends, [0]);
  assert.equal(Atomics.load(gate, 2), 1, 'the worker received the close message');

  // A worker that does not end by itself is terminated once the grace period is over.
  const codes: number[] = [];
  const stubborn = startPool({
    data: { gate, ignoreClose: true },
    shutdown: { message: 'close', graceMs: 500 },
    onExit: (end) => codes.push(end.code),
  }).pool;
  await stubborn.close();
  assert.deepEqual(codes, [1]);
  await threadsEnded();
});
