import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PriorityQueues, type QueueEntry, takeRows } from '../../src/serving/batch-queue.ts';

let lastId = 0;

function entry(rows: number, shapeKey = 'a'): QueueEntry & { id: number } {
  lastId += 1;
  return { rows, shapeKey, state: 'queued', id: lastId };
}

test('head serves the highest priority first and skips taken and expired entries', () => {
  const queues = new PriorityQueues<ReturnType<typeof entry>>(3);
  const low = entry(1);
  const high = entry(1);
  const taken = entry(1);
  queues.push(3, low);
  queues.push(1, taken);
  queues.push(1, high);
  taken.state = 'taken';
  assert.equal(queues.head(), high);
  high.state = 'expired';
  assert.equal(queues.head(), low);
  low.state = 'taken';
  assert.equal(queues.head(), undefined);
});

test('gather takes same-shaped entries across priorities up to the row limit, in order', () => {
  const queues = new PriorityQueues<ReturnType<typeof entry>>(2);
  const first = entry(2);
  const otherShape = entry(1, 'b');
  const tooBig = entry(3);
  const fits = entry(1);
  const later = entry(1);
  queues.push(1, first);
  queues.push(1, otherShape);
  queues.push(1, tooBig);
  queues.push(2, fits);
  queues.push(2, later);
  const gathered = queues.gather(first, 4);
  assert.deepEqual(
    gathered.entries.map((e) => e.id),
    [first, fits, later].map((e) => e.id),
  );
  assert.equal(gathered.rows, 4);
});

test('a long consumed prefix is dropped while the queued entries keep their order', () => {
  const queues = new PriorityQueues<ReturnType<typeof entry>>(1);
  const all = Array.from({ length: 3000 }, () => entry(1));
  for (const e of all) queues.push(1, e);
  for (const e of all.slice(0, 2000)) e.state = 'taken';
  assert.equal(queues.head(), all[2000]);
  const gathered = queues.gather(all[2000] as ReturnType<typeof entry>, 5);
  assert.deepEqual(
    gathered.entries.map((e) => e.id),
    all.slice(2000, 2005).map((e) => e.id),
  );
});

test('forgetConsumed drops every taken or expired entry, so the arrays hold no finished request', () => {
  const queues = new PriorityQueues<ReturnType<typeof entry>>(2);
  const all = Array.from({ length: 10 }, () => entry(1));
  for (const [i, e] of all.entries()) queues.push((i % 2) + 1, e);
  for (const [i, e] of all.entries()) e.state = i % 3 === 0 ? 'expired' : 'taken';
  assert.equal(queues.retained, 10);
  queues.forgetConsumed();
  assert.equal(queues.retained, 0);
  const next = entry(1);
  queues.push(2, next);
  assert.equal(queues.head(), next);
});

test('clear hands over only the queued entries and empties every level', () => {
  const queues = new PriorityQueues<ReturnType<typeof entry>>(2);
  const a = entry(1);
  const b = entry(1);
  const c = entry(1);
  queues.push(1, a);
  queues.push(2, b);
  queues.push(2, c);
  b.state = 'taken';
  const handed: number[] = [];
  queues.clear((e) => handed.push(e.id));
  assert.deepEqual(handed, [a.id, c.id]);
  assert.equal(queues.head(), undefined);
});

test('takeRows picks entries in order that add up to the target, skipping ones that overshoot', () => {
  const entries = [entry(2), entry(3), entry(1), entry(1)];
  const cut = takeRows(entries, 4);
  assert.deepEqual(
    cut.entries.map((e) => e.rows),
    [2, 1, 1],
  );
  assert.equal(cut.rows, 4);
});
