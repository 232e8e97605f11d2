/**
 * The batcher's background class (asynchronous inference): strictly behind every online request,
 * never in an online batch, still served whenever online load leaves the instance free, and
 * withdrawn when its caller aborts.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { type Batch, type BatcherSettings, createBatcher } from '../../src/serving/batcher.ts';
import { StratumError } from '../../src/errors/index.ts';

const BASE: BatcherSettings = {
  batching: true,
  maxBatchSize: 4,
  maxQueueDelayMicroseconds: 0,
  preferredBatchSizes: [],
  maxQueueSize: 100,
  priorityLevels: 2,
  defaultPriority: 2,
  defaultTimeoutMicroseconds: 0,
  adaptiveQueueDelay: false,
  instances: 1,
};

/** A batcher whose executor records batches and finishes the oldest running one on `release()`. */
function harness(settings: Partial<BatcherSettings> = {}) {
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
  });
  const release = async (): Promise<void> => {
    const gate = gates.shift();
    assert.ok(gate !== undefined, 'no batch is running');
    gate();
    await nextTurn();
  };
  const payloads = (): string[][] => batches.map((b) => b.items.map((i) => i.payload));
  return { batcher, batches, release, payloads };
}

const online = (b: ReturnType<typeof harness>['batcher'], payload: string, priority?: number) =>
  b.submit({ payload, rows: 1, shapeKey: '', ...(priority !== undefined && { priority }) });
const background = (b: ReturnType<typeof harness>['batcher'], payload: string, signal?: AbortSignal) =>
  b.submit({ payload, rows: 1, shapeKey: '', background: true, ...(signal !== undefined && { signal }) });

test('an idle batcher runs a background request at once', async () => {
  const h = harness();
  const p = background(h.batcher, 'x');
  assert.deepEqual(h.payloads(), [['x']]);
  await h.release();
  assert.equal(await p, 'done:x');
});

test('with online requests waiting, background requests run only after all of them, in batches of their own', async () => {
  const h = harness();
  const all = [online(h.batcher, 'o0')]; // takes the instance
  all.push(background(h.batcher, 'b1'), background(h.batcher, 'b2'));
  for (let i = 1; i <= 6; i++) all.push(online(h.batcher, `o${i}`, i % 2 === 0 ? 1 : 2));
  all.push(background(h.batcher, 'b3'));
  while (h.batcher.running > 0) await h.release();
  await Promise.all(all);
  // Priority 1 first, then priority 2, each batch online only; the background class last.
  assert.deepEqual(h.payloads(), [['o0'], ['o2', 'o4', 'o6', 'o1'], ['o3', 'o5'], ['b1', 'b2', 'b3']]);
});

test('an online request arriving while background work runs is served before the background backlog', async () => {
  const h = harness({ maxBatchSize: 2 });
  const all = [background(h.batcher, 'b1'), background(h.batcher, 'b2'), background(h.batcher, 'b3')];
  all.push(background(h.batcher, 'b4'), online(h.batcher, 'o1'));
  while (h.batcher.running > 0) await h.release();
  await Promise.all(all);
  assert.deepEqual(h.payloads(), [['b1'], ['o1'], ['b2', 'b3'], ['b4']]);
});

test('background requests ignore priority and queue timeouts, but count towards maxQueueSize', async () => {
  const h = harness({ maxQueueSize: 2, defaultTimeoutMicroseconds: 1 });
  const first = background(h.batcher, 'b1');
  const queued = [
    h.batcher.submit({ payload: 'b2', rows: 1, shapeKey: '', background: true, priority: 99 }),
    background(h.batcher, 'b3'),
  ];
  await assert.rejects(online(h.batcher, 'o1'), (e: unknown) => e instanceof StratumError && e.code === 'QUEUE_FULL');
  while (h.batcher.running > 0) await h.release();
  assert.deepEqual(await Promise.all([first, ...queued]), ['done:b1', 'done:b2', 'done:b3']);
});

test('a queued background request is withdrawn when its signal aborts, and never runs', async () => {
  const h = harness();
  const running = background(h.batcher, 'b1');
  const controller = new AbortController();
  const withdrawn = background(h.batcher, 'b2', controller.signal);
  const reason = new StratumError('JOB_CANCELLED', 'cancelled');
  controller.abort(reason);
  await assert.rejects(withdrawn, (e: unknown) => e === reason);
  assert.equal(h.batcher.queued, 0);
  await h.release();
  assert.equal(await running, 'done:b1');
  assert.deepEqual(h.payloads(), [['b1']]);
});
