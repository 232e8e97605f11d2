/**
 * Semantics of every Dataset operator on small in-memory sources, with expected values written out
 * by hand, plus laziness, early-exit cleanup and error propagation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { StratumError } from '../../src/errors/index.ts';
import { fromArray } from '../../src/data/array-source.ts';
import { Dataset } from '../../src/data/dataset.ts';

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function isBadRequest(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);
}

/** A source that counts how often it is opened, how many elements it yields and whether it was closed. */
function counted(n: number): { dataset: Dataset<number>; stats: { opened: number; yielded: number; closed: number } } {
  const stats = { opened: 0, yielded: 0, closed: 0 };
  const dataset = new Dataset(async function* () {
    stats.opened++;
    try {
      for (let i = 0; i < n; i++) {
        stats.yielded++;
        yield i;
      }
    } finally {
      stats.closed++;
    }
  });
  return { dataset, stats };
}

test('is lazy: nothing runs until iterated, and every iteration restarts the source', async () => {
  const { dataset, stats } = counted(3);
  const pipeline = dataset.map((x) => x * 2).filter((x) => x > 0);
  assert.equal(stats.opened, 0);
  assert.deepEqual(await pipeline.toArray(), [2, 4]);
  assert.deepEqual(await pipeline.toArray(), [2, 4]);
  assert.equal(stats.opened, 2);
});

test('map passes the index and awaits async functions; filter keeps matching elements', async () => {
  assert.deepEqual(
    await fromArray(['a', 'b'])
      .map((s, i) => `${s}${i}`)
      .toArray(),
    ['a0', 'b1'],
  );
  assert.deepEqual(
    await fromArray([1, 2, 3])
      .map(async (x) => {
        await sleep(3 - x);
        return x * 10;
      })
      .toArray(),
    [10, 20, 30],
  );
  assert.deepEqual(
    await fromArray(range(10))
      .filter((x) => x % 3 === 0)
      .toArray(),
    [0, 3, 6, 9],
  );
  assert.deepEqual(
    await fromArray(range(4))
      .filter(async (_, i) => i >= 2)
      .toArray(),
    [2, 3],
  );
});

test('batch groups elements, keeps or drops the remainder, and rejects bad sizes', async () => {
  assert.deepEqual(await fromArray(range(7)).batch(3).toArray(), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(await fromArray(range(7)).batch(3, { dropRemainder: true }).toArray(), [
    [0, 1, 2],
    [3, 4, 5],
  ]);
  assert.deepEqual(await fromArray(range(6)).batch(3, { dropRemainder: true }).toArray(), [
    [0, 1, 2],
    [3, 4, 5],
  ]);
  assert.deepEqual(await fromArray<number>([]).batch(3).toArray(), []);
  assert.throws(() => fromArray(range(3)).batch(0), isBadRequest(/batch size: expected an integer >= 1, got 0/));
  assert.throws(() => fromArray(range(3)).batch(1.5), isBadRequest(/batch size/));
});

test('shuffle is a permutation, deterministic for a seed, different across seeds', async () => {
  const data = range(100);
  const a = await fromArray(data).shuffle(100, 42).toArray();
  const b = await fromArray(data).shuffle(100, 42).toArray();
  const c = await fromArray(data).shuffle(100, 43).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, data);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    data,
  );
  assert.deepEqual(
    [...c].sort((x, y) => x - y),
    data,
  );
});

test('shuffle with a small buffer only moves elements locally', async () => {
  const out = await fromArray(range(1000)).shuffle(10, 1).toArray();
  assert.deepEqual(
    [...out].sort((x, y) => x - y),
    range(1000),
  );
  // When input v arrives, v - 10 elements have been emitted: nothing is emitted earlier than that.
  out.forEach((value, position) => assert.ok(position >= value - 10, `${value} emitted at ${position}`));
  assert.notDeepEqual(out, range(1000));
  assert.deepEqual(await fromArray(range(5)).shuffle(1, 7).toArray(), range(5));
});

test('shuffle reshuffles each iteration with seed + epoch, unless told not to', async () => {
  const data = range(50);
  const shuffled = fromArray(data).shuffle(50, 9);
  const epochs = await shuffled.repeat(2).batch(50).toArray();
  assert.equal(epochs.length, 2);
  assert.notDeepEqual(epochs[0], epochs[1]);
  // Epoch e uses seed + e: epoch 1 of seed 9 is epoch 0 of seed 10.
  assert.deepEqual(epochs[1], await fromArray(data).shuffle(50, 10).toArray());
  const fixed = fromArray(data).shuffle(50, 9, { reshuffleEachIteration: false });
  assert.deepEqual(await fixed.toArray(), await fixed.toArray());
  assert.throws(() => fromArray(data).shuffle(0, 1), isBadRequest(/shuffle buffer size/));
  assert.throws(() => fromArray(data).shuffle(10, 0.5), isBadRequest(/shuffle seed/));
});

test('prefetch preserves order, reads ahead at most n, and delivers errors after the preceding elements', async () => {
  assert.deepEqual(await fromArray(range(20)).prefetch(3).toArray(), range(20));
  const { dataset, stats } = counted(100);
  const iterator = dataset.prefetch(4)[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: 0, done: false });
  // The read-ahead runs on promises alone: one turn of the event loop lets it fill its buffer.
  await setImmediate();
  // One handed out plus at most 4 waiting (and one in flight).
  assert.ok(stats.yielded <= 6, `read ${stats.yielded} ahead`);
  assert.ok(stats.yielded >= 4, `read ${stats.yielded} ahead`);
  await iterator.return?.();
  assert.equal(stats.closed, 1);

  const failing = new Dataset(async function* () {
    yield 1;
    yield 2;
    throw new Error('disk on fire');
  });
  const seen: number[] = [];
  await assert.rejects(
    failing.prefetch(5).forEach((x) => {
      seen.push(x);
    }),
    /disk on fire/,
  );
  assert.deepEqual(seen, [1, 2]);
  assert.throws(() => fromArray([1]).prefetch(0), isBadRequest(/prefetch size/));
});

test('cache replays without re-reading the source; a partial iteration caches nothing', async () => {
  const { dataset, stats } = counted(5);
  const cached = dataset.map((x) => x + 1).cache();
  assert.deepEqual(await cached.take(2).toArray(), [1, 2]);
  assert.deepEqual(await cached.toArray(), [1, 2, 3, 4, 5]);
  assert.deepEqual(await cached.toArray(), [1, 2, 3, 4, 5]);
  assert.deepEqual(await cached.repeat(2).count(), 10);
  assert.equal(stats.opened, 2);
  assert.equal(stats.yielded, 2 + 5);
});

test('shard partitions the dataset and validates its arguments', async () => {
  const data = range(10);
  const shards = await Promise.all([0, 1, 2].map((index) => fromArray(data).shard(3, index).toArray()));
  assert.deepEqual(shards, [
    [0, 3, 6, 9],
    [1, 4, 7],
    [2, 5, 8],
  ]);
  assert.deepEqual(
    shards.flat().sort((x, y) => x - y),
    data,
  );
  assert.throws(() => fromArray(data).shard(3, 3), isBadRequest(/shard index: expected 0 … 2, got 3/));
  assert.throws(() => fromArray(data).shard(0, 0), isBadRequest(/shard count/));
  assert.throws(() => fromArray(data).shard(2, -1), isBadRequest(/shard index/));
});

test('take reads only what it needs and closes the source; skip drops the first n', async () => {
  const { dataset, stats } = counted(1_000_000);
  assert.deepEqual(await dataset.take(3).toArray(), [0, 1, 2]);
  assert.equal(stats.yielded, 3);
  assert.equal(stats.closed, 1);
  assert.deepEqual(await dataset.take(0).toArray(), []);
  assert.equal(stats.opened, 1, 'take(0) does not open the source');
  assert.deepEqual(await fromArray(range(3)).take(10).toArray(), [0, 1, 2]);
  assert.deepEqual(await fromArray(range(5)).skip(2).toArray(), [2, 3, 4]);
  assert.deepEqual(await fromArray(range(5)).skip(9).toArray(), []);
  assert.deepEqual(await fromArray(range(10)).skip(2).take(3).toArray(), [2, 3, 4]);
  assert.throws(() => fromArray(range(5)).take(-1), isBadRequest(/take count: expected an integer >= 0, got -1/));
  assert.throws(() => fromArray(range(5)).skip(Number.NaN), isBadRequest(/skip count/));
});

test('repeat restarts the source; forever when no count is given; an empty source ends', async () => {
  const { dataset, stats } = counted(3);
  assert.deepEqual(await dataset.repeat(2).toArray(), [0, 1, 2, 0, 1, 2]);
  assert.equal(stats.opened, 2);
  assert.deepEqual(await fromArray(range(3)).repeat(0).toArray(), []);
  assert.deepEqual(await fromArray(range(2)).repeat().take(5).toArray(), [0, 1, 0, 1, 0]);
  assert.deepEqual(await fromArray<number>([]).repeat().toArray(), []);
  assert.throws(() => fromArray([1]).repeat(-2), isBadRequest(/repeat times/));
});

test('interleave matches the tf.data example (cycleLength 2, blockLength 4)', async () => {
  // tf.data docs: range(1, 6).interleave(lambda x: from_tensors(x).repeat(6), cycle_length=2, block_length=4)
  const out = await fromArray([1, 2, 3, 4, 5])
    .interleave((x) => fromArray([x]).repeat(6), { cycleLength: 2, blockLength: 4 })
    .toArray();
  assert.deepEqual(out, [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5]);
  const roundRobin = await fromArray(['a', 'b', 'c'])
    .interleave((s) => fromArray([1, 2]).map((n) => `${s}${n}`), { cycleLength: 3 })
    .toArray();
  assert.deepEqual(roundRobin, ['a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  assert.throws(
    () => fromArray([1]).interleave((x) => fromArray([x]), { cycleLength: 0 }),
    isBadRequest(/cycleLength/),
  );
});

test('interleave closes the open inner datasets and the outer one on early exit', async () => {
  const outer = counted(10);
  const inners: { closed: number }[] = [];
  const out = await outer.dataset
    .interleave(
      () => {
        const inner = counted(100);
        inners.push(inner.stats);
        return inner.dataset;
      },
      { cycleLength: 3 },
    )
    .take(4)
    .toArray();
  assert.deepEqual(out, [0, 0, 0, 1]);
  assert.equal(inners.length, 3);
  assert.ok(inners.every((inner) => inner.closed === 1));
  assert.equal(outer.stats.closed, 1);
});

test('terminals: count, forEach with index, async iteration', async () => {
  assert.equal(await fromArray(range(7)).count(), 7);
  const seen: string[] = [];
  await fromArray(['x', 'y']).forEach((s, i) => {
    seen.push(`${i}:${s}`);
  });
  assert.deepEqual(seen, ['0:x', '1:y']);
  const items: number[] = [];
  for await (const x of fromArray([3, 4])) items.push(x);
  assert.deepEqual(items, [3, 4]);
});

test('errors from the source and from user functions propagate through the pipeline', async () => {
  const broken = new Dataset(async function* () {
    yield 1;
    throw new StratumError('BAD_REQUEST', 'source broke');
  });
  await assert.rejects(
    broken
      .map((x) => x)
      .batch(2)
      .shuffle(4, 1)
      .toArray(),
    /source broke/,
  );
  await assert.rejects(
    fromArray([1, 2])
      .map((x) => {
        if (x === 2) throw new Error('map broke');
        return x;
      })
      .toArray(),
    /map broke/,
  );
});

test('a pipeline composed of every operator is deterministic for a seed', async () => {
  const build = (seed: number) =>
    fromArray(range(200))
      .shard(2, 1)
      .shuffle(32, seed)
      .map((x) => x * 2)
      .filter((x) => x % 3 !== 0)
      .skip(3)
      .take(40)
      .batch(8)
      .prefetch(2)
      .cache()
      .repeat(2);
  const a = await build(5).toArray();
  assert.deepEqual(a, await build(5).toArray());
  assert.notDeepEqual(a, await build(6).toArray());
  assert.equal(a.length, 10);
  assert.deepEqual(a.slice(0, 5), a.slice(5), 'cache replays the first epoch');
});
