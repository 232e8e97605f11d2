/**
 * The dynamic batcher with a recording executor. Tests of delays run on fake timers and a fake
 * clock (node:test's mock timers), so "not before 200 ms, then at once" is exact: a busy machine
 * that oversleeps a real timer can neither fail nor falsely pass them.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { type Batch, type BatcherSettings, createBatcher } from '../../src/serving/batcher.ts';
import { StratumError } from '../../src/errors/index.ts';

const BASE: BatcherSettings = {
  batching: true,
  maxBatchSize: 8,
  maxQueueDelayMicroseconds: 0,
  preferredBatchSizes: [],
  maxQueueSize: 100,
  priorityLevels: 2,
  defaultPriority: 2,
  defaultTimeoutMicroseconds: 0,
  adaptiveQueueDelay: false,
  instances: 1,
};

/**
 * A batcher whose executor records batches and finishes the oldest running one when `release()`
 * is called. `now` replaces the batcher's clock (see {@link fakeTime}).
 */
function harness(settings: Partial<BatcherSettings> = {}, now?: () => number) {
  const batches: Batch<string>[] = [];
  const gates: (() => void)[] = [];
  const batcher = createBatcher<string, string>({
    name: 'model "t" version 1',
    settings: { ...BASE, ...settings },
    execute: async (batch) => {
      batches.push(batch);
      await new Promise<void>((resolve) => gates.push(resolve));
      return batch.items.map((i) => `done:${i.payload}`);
    },
    ...(now !== undefined && { now }),
  });
  // A batch is dispatched synchronously, and a finished one settles (and the next is cut) in
  // microtasks: one turn of the event loop later, everything that follows from a release is done.
  const release = async (): Promise<void> => {
    const gate = gates.shift();
    assert.ok(gate !== undefined, 'no batch is running');
    gate();
    await nextTurn();
  };
  return { batcher, batches, release };
}

/**
 * Fake timers and a fake clock for this test: time stands still until `advance(ms)` moves it and
 * fires the timers that are due. Returns the clock to give the batcher.
 */
function fakeTime(t: TestContext): { now: () => number; advance: (ms: number) => Promise<void> } {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  return {
    now: () => Date.now(),
    async advance(ms) {
      t.mock.timers.tick(ms);
      await nextTurn();
    },
  };
}

const submit = (
  b: ReturnType<typeof harness>['batcher'],
  payload: string,
  extra: { rows?: number; priority?: number; shapeKey?: string; timeoutMicroseconds?: number } = {},
) => b.submit({ payload, rows: extra.rows ?? 1, shapeKey: extra.shapeKey ?? '', ...extra });

test('a free instance takes a lone request at once (no delay configured)', async () => {
  const h = harness();
  const p = submit(h.batcher, 'a');
  assert.equal(h.batches.length, 1);
  assert.equal(h.batches[0]?.reason, 'instance_free');
  await h.release();
  assert.equal(await p, 'done:a');
});

test('requests that arrive while the instance is busy are stacked into the next batch', async () => {
  const h = harness();
  const first = submit(h.batcher, 'a');
  const rest = ['b', 'c', 'd'].map((x) => submit(h.batcher, x));
  assert.equal(h.batcher.queued, 3);
  await h.release();
  assert.equal(h.batches.length, 2);
  assert.deepEqual(
    h.batches[1]?.items.map((i) => i.payload),
    ['b', 'c', 'd'],
  );
  assert.equal(h.batches[1]?.rows, 3);
  await h.release();
  assert.deepEqual(await Promise.all([first, ...rest]), ['done:a', 'done:b', 'done:c', 'done:d']);
});

test('batches never exceed maxBatchSize rows, and a full batch is cut for that reason', async () => {
  const h = harness({ maxBatchSize: 4 });
  const all = [submit(h.batcher, 'busy')];
  for (let i = 0; i < 6; i++) all.push(submit(h.batcher, `r${i}`, { rows: 2 }));
  for (let i = 0; i < 4; i++) await h.release();
  await Promise.all(all);
  const sizes = h.batches.map((b) => b.rows);
  assert.deepEqual(sizes, [1, 4, 4, 4]);
  assert.equal(h.batches[1]?.reason, 'max_batch_size');
});

test('maxQueueDelay holds a partial batch until the oldest request has waited that long', async (t) => {
  const time = fakeTime(t);
  const h = harness({ maxQueueDelayMicroseconds: 200_000 }, time.now);
  const all = [submit(h.batcher, 'a'), submit(h.batcher, 'b')];
  await time.advance(150);
  all.push(submit(h.batcher, 'c'));
  await time.advance(49);
  assert.equal(h.batches.length, 0, 'nothing is cut before the oldest request has waited 200 ms');
  await time.advance(1);
  assert.equal(h.batches.length, 1, 'the batch is cut once it has');
  assert.equal(h.batches[0]?.reason, 'queue_delay');
  assert.equal(h.batches[0]?.rows, 3, 'a request that came later joined it');
  await h.release();
  await Promise.all(all);
});

test('a preferred batch size is cut without waiting for the delay', async () => {
  const h = harness({ maxQueueDelayMicroseconds: 5_000_000, preferredBatchSizes: [2, 4] });
  const all = ['a', 'b', 'c', 'd', 'e'].map((x) => submit(h.batcher, x));
  assert.equal(h.batches.length, 1);
  assert.equal(h.batches[0]?.reason, 'preferred_batch_size');
  assert.equal(h.batches[0]?.rows, 2);
  await h.release();
  assert.equal(h.batches[1]?.rows, 2);
  await h.release();
  h.batcher.close(new StratumError('MODEL_NOT_READY', 'closed'));
  await Promise.allSettled(all);
});

test('higher priority (1) is served before lower priority, whatever the arrival order', async () => {
  const h = harness({ maxBatchSize: 1 });
  const all = [
    submit(h.batcher, 'busy'),
    submit(h.batcher, 'low1', { priority: 2 }),
    submit(h.batcher, 'low2', { priority: 2 }),
    submit(h.batcher, 'high', { priority: 1 }),
  ];
  for (let i = 0; i < 4; i++) await h.release();
  await Promise.all(all);
  assert.deepEqual(
    h.batches.map((b) => b.items[0]?.payload),
    ['busy', 'high', 'low1', 'low2'],
  );
});

test('an out-of-range priority is rejected with INVALID_PARAMETER', async () => {
  const h = harness();
  await assert.rejects(
    submit(h.batcher, 'x', { priority: 3 }),
    (e: StratumError) => e.code === 'INVALID_PARAMETER' && /priority/.test(e.message),
  );
});

test('a request whose timeout expires in the queue fails with QUEUE_TIMEOUT and is never run', async () => {
  const h = harness();
  const busy = submit(h.batcher, 'busy');
  const late = submit(h.batcher, 'late', { timeoutMicroseconds: 5_000 });
  await assert.rejects(late, (e: StratumError) => e.code === 'QUEUE_TIMEOUT' && /5000 µs/.test(e.message));
  assert.equal(h.batcher.queued, 0);
  await h.release();
  await busy;
  assert.equal(h.batches.length, 1, 'the expired request was not executed');
});

test('a full queue rejects with QUEUE_FULL and a retry hint, and recovers', async () => {
  const h = harness({ maxQueueSize: 2 });
  const busy = submit(h.batcher, 'busy');
  const queued = [submit(h.batcher, 'q1'), submit(h.batcher, 'q2')];
  await assert.rejects(
    submit(h.batcher, 'over'),
    (e: StratumError) => e.code === 'QUEUE_FULL' && e.retryAfterSeconds === 1,
  );
  await h.release();
  await h.release();
  await Promise.all([busy, ...queued]);
  const again = submit(h.batcher, 'again');
  await h.release();
  assert.equal(await again, 'done:again');
});

test('only requests with the same non-batch shape share a batch', async () => {
  const h = harness();
  const all = [
    submit(h.batcher, 'busy'),
    submit(h.batcher, 'a', { shapeKey: '64' }),
    submit(h.batcher, 'b', { shapeKey: '32' }),
    submit(h.batcher, 'c', { shapeKey: '64' }),
  ];
  for (let i = 0; i < 3; i++) await h.release();
  await Promise.all(all);
  assert.deepEqual(
    h.batches.map((b) => b.items.map((i) => i.payload)),
    [['busy'], ['a', 'c'], ['b']],
  );
});

test('a request larger than maxBatchSize is rejected with INVALID_INPUT', async () => {
  const h = harness({ maxBatchSize: 4 });
  await assert.rejects(
    submit(h.batcher, 'big', { rows: 5 }),
    (e: StratumError) => e.code === 'INVALID_INPUT' && /at most 4/.test(e.message),
  );
});

test('an unbatched model runs every request on its own', async () => {
  const h = harness({ batching: false });
  const all = ['a', 'b', 'c'].map((x) => submit(h.batcher, x));
  for (let i = 0; i < 3; i++) await h.release();
  await Promise.all(all);
  assert.deepEqual(
    h.batches.map((b) => [b.rows, b.reason]),
    [
      [1, 'unbatched'],
      [1, 'unbatched'],
      [1, 'unbatched'],
    ],
  );
});

test('every instance gets a batch of its own', async () => {
  const h = harness({ instances: 2 });
  const all = ['a', 'b', 'c'].map((x) => submit(h.batcher, x));
  assert.equal(h.batches.length, 2);
  assert.notEqual(h.batches[0]?.instance, h.batches[1]?.instance);
  for (let i = 0; i < 2; i++) await h.release();
  await h.release();
  await Promise.all(all);
});

test('an executor failure rejects every request of that batch and frees the instance', async () => {
  let calls = 0;
  const batcher = createBatcher<string, string>({
    name: 't',
    settings: BASE,
    execute: async (batch) => {
      calls++;
      if (calls === 1) throw new StratumError('INTERNAL', 'boom');
      return batch.items.map((i) => i.payload);
    },
  });
  await assert.rejects(batcher.submit({ payload: 'x', rows: 1, shapeKey: '' }), /boom/);
  assert.equal(await batcher.submit({ payload: 'y', rows: 1, shapeKey: '' }), 'y');
});

test('drain waits for queued and running work; close rejects what is still queued', async () => {
  const h = harness();
  const running = submit(h.batcher, 'run');
  const queued = submit(h.batcher, 'queued');
  let drained = false;
  const drain = h.batcher.drain().then(() => {
    drained = true;
  });
  await nextTurn();
  assert.equal(drained, false);
  await h.release();
  await h.release();
  await drain;
  assert.equal(await running, 'done:run');
  assert.equal(await queued, 'done:queued');

  const busy = submit(h.batcher, 'busy');
  const pending = submit(h.batcher, 'pending');
  h.batcher.close(new StratumError('MODEL_NOT_READY', 'unloaded'));
  await assert.rejects(pending, (e: StratumError) => e.code === 'MODEL_NOT_READY');
  await assert.rejects(submit(h.batcher, 'after'), (e: StratumError) => e.code === 'MODEL_NOT_READY');
  await h.release();
  assert.equal(await busy, 'done:busy');
});

test('adaptive delay: under load a small partial batch waits for more rows; an idle model never waits', async (t) => {
  const time = fakeTime(t);
  const h = harness({ instances: 2, adaptiveQueueDelay: true }, time.now);
  // One batch of 8 rows that takes 200 ms sets the recent batch size and time.
  const big = submit(h.batcher, 'big', { rows: 8 });
  await time.advance(200);
  await h.release();
  await big;
  // Idle: a lone request runs at once.
  const first = submit(h.batcher, 'first');
  assert.equal(h.batches.length, 2);
  assert.equal(h.batches[1]?.reason, 'instance_free');
  // Under load (the other instance is busy): a lone request is held for half a batch time...
  const held = submit(h.batcher, 'held');
  await time.advance(99);
  assert.equal(h.batches.length, 2, 'the small batch waits while another instance runs');
  // ...joined by what arrives meanwhile, and cut once it has waited that long.
  const joined = submit(h.batcher, 'joined');
  await time.advance(1);
  assert.equal(h.batches.length, 3, 'cut after half the recent batch time');
  assert.equal(h.batches[2]?.reason, 'adaptive_delay');
  assert.deepEqual(
    h.batches[2]?.items.map((i) => i.payload),
    ['held', 'joined'],
  );
  await h.release();
  await h.release();
  await Promise.all([first, held, joined]);
});

test('a sub-millisecond queue delay is honoured without rounding up to a 1 ms timer', async () => {
  const h = harness({ maxQueueDelayMicroseconds: 300 });
  const started = performance.now();
  const p = submit(h.batcher, 'a');
  while (h.batches.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const waited = performance.now() - started;
  assert.ok(waited >= 0.3, `waited ${waited} ms`);
  assert.equal(h.batches[0]?.reason, 'queue_delay');
  await h.release();
  await p;
});

test('finished requests are not kept by the batcher once nothing is queued (only the caller holds them)', async () => {
  const { collectGarbage } = await import('../../src/runtime/collect-garbage.ts');
  const batcher = createBatcher<{ data: Float32Array }, Float32Array>({
    name: 'model "t" version 1',
    settings: BASE,
    execute: async (batch) => batch.items.map((i) => i.payload.data),
  });
  const refs: WeakRef<Float32Array>[] = [];
  // In a function of its own, so no local of the test still points at a request.
  const submitOne = async (): Promise<void> => {
    const data = new Float32Array(1024);
    refs.push(new WeakRef(data));
    await batcher.submit({ payload: { data }, rows: 1, shapeKey: 'a' });
  };
  // One request at a time: each is dispatched alone and the queue empties after each.
  for (let i = 0; i < 20; i++) await submitOne();
  // A WeakRef made in this job stays alive until the job ends.
  await nextTurn();
  collectGarbage();
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0);
  batcher.close(new StratumError('MODEL_NOT_READY', 'closed'));
});

test('a configured delay does not hold a lone request to an idle model with sparse traffic', async (t) => {
  const time = fakeTime(t);
  const h = harness({ maxQueueDelayMicroseconds: 200_000 }, time.now);
  // Before any batch there is no history: the first request waits the delay (a burst may come).
  const first = submit(h.batcher, 'first');
  assert.equal(h.batches.length, 0);
  await time.advance(200);
  assert.equal(h.batches[0]?.reason, 'queue_delay');
  await h.release();
  await first;
  // Concurrency 1 from then on: each request arrives after the previous one was answered.
  for (const payload of ['a', 'b', 'c']) {
    const before: number = h.batches.length;
    const p = submit(h.batcher, payload);
    assert.equal(h.batches.length, before + 1, `"${payload}" is dispatched at once, without a timer`);
    assert.equal(h.batches.at(-1)?.reason, 'instance_free');
    await h.release();
    assert.equal(await p, `done:${payload}`);
  }
});

test('the delay still holds a lone request while another batch runs, or after dense traffic', async (t) => {
  const time = fakeTime(t);
  const h = harness({ maxQueueDelayMicroseconds: 200_000, instances: 2 }, time.now);
  const first = submit(h.batcher, 'first');
  await time.advance(200);
  await h.release();
  await first;
  const busy = submit(h.batcher, 'busy');
  assert.equal(h.batches[1]?.reason, 'instance_free', 'idle and sparse: at once');
  // Another instance is free, but a batch runs: the lone request waits for partners.
  const held = submit(h.batcher, 'held');
  await time.advance(199);
  assert.equal(h.batches.length, 2, 'held while another batch runs');
  await time.advance(1);
  assert.equal(h.batches[2]?.reason, 'queue_delay');
  await h.release();
  await h.release();
  await Promise.all([busy, held]);

  // Dense traffic: eight requests that arrived together form one batch; an idle model waits again.
  const dense = harness({ maxQueueDelayMicroseconds: 200_000, instances: 1 }, time.now);
  const eight = Array.from({ length: 8 }, (_, i) => submit(dense.batcher, `r${i}`));
  assert.equal(dense.batches[0]?.reason, 'max_batch_size');
  await dense.release();
  await Promise.all(eight);
  const lone = submit(dense.batcher, 'lone');
  assert.equal(dense.batches.length, 1, 'held: the recent batch carried several requests');
  await time.advance(200);
  assert.equal(dense.batches[1]?.reason, 'queue_delay');
  await dense.release();
  await lone;
});
