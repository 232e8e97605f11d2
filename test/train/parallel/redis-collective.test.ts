/**
 * The Redis collective on the real Redis (127.0.0.1:6379), every rank in this process on its own
 * connections, a fresh group per test: sums in rank order, broadcast, barrier, refusing a taken
 * rank, naming the ranks that never joined, failing fast with a failed rank's reason, bad options,
 * and no key left after a clean run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type StratumError } from '../../../src/errors/index.ts';
import {
  groupPrefix,
  openRedisCollective,
  type Collective,
  type RedisCollectiveOptions,
} from '../../../src/train/parallel/redis-collective.ts';

const URL_ = 'redis://127.0.0.1:6379';
const redis = new Redis(URL_);
after(() => redis.quit());

async function openGroup(worldSize: number, extra: Partial<RedisCollectiveOptions> = {}): Promise<Collective[]> {
  const group = `test-${randomUUID()}`;
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) =>
      openRedisCollective({ url: URL_, group, rank, worldSize, ...extra }),
    ),
  );
}

describe('openRedisCollective', () => {
  test('allreduce sums in rank order on every rank; broadcast and barrier; no key left', async () => {
    const ranks = await openGroup(3);
    const inputs = ranks.map((c) => Float64Array.from([c.rank + 1, 0.1 * (c.rank + 1), 1e16, -c.rank]));
    const sums = await Promise.all(ranks.map((c, i) => c.allreduceSum(inputs[i] as Float64Array)));
    const expected = new Float64Array(4);
    for (const input of inputs)
      for (let j = 0; j < 4; j++) expected[j] = (expected[j] as number) + (input[j] as number);
    for (const sum of sums) assert.deepEqual(sum, expected);
    const message = new TextEncoder().encode('split decisions');
    const received = await Promise.all(ranks.map((c) => c.broadcast(c.rank === 1 ? message : undefined, 1)));
    for (const bytes of received) assert.equal(new TextDecoder().decode(bytes), 'split decisions');
    await Promise.all(ranks.map((c) => c.barrier()));
    const stats = ranks[0]?.stats();
    // Two peers each got the 32 bytes, then the barrier's 8 bytes each; the broadcast came from rank 1.
    assert.equal(stats?.bytesSent, 2 * 32 + 2 * 8);
    assert.equal(stats?.bytesReceived, 2 * 32 + message.byteLength + 2 * 8);
    assert.equal(stats?.operations, 3);
    await Promise.all(ranks.map((c) => c.close()));
    assert.deepEqual(await redis.keys(`${groupPrefix(ranks[0]?.group ?? '')}*`), []);
    await ranks[0]?.close(); // idempotent
  });

  test('one rank alone sums to itself without Redis traffic', async () => {
    const [only] = await openGroup(1);
    assert.ok(only);
    assert.deepEqual(await only.allreduceSum(Float64Array.from([1, 2])), Float64Array.from([1, 2]));
    assert.equal(only.stats().bytesSent, 0);
    await only.close();
  });

  test('a taken rank is refused', async () => {
    const [first] = await openGroup(1);
    assert.ok(first);
    await assert.rejects(
      openRedisCollective({ url: URL_, group: first.group, rank: 0, worldSize: 1 }),
      (error: StratumError) => error.code === 'COLLECTIVE_FAILED' && /already taken/.test(error.message),
    );
    await first.close();
  });

  test('join names the ranks that never appeared', async () => {
    const group = `test-${randomUUID()}`;
    const zero = await openRedisCollective({ url: URL_, group, rank: 0, worldSize: 3, joinTimeoutMs: 300 });
    await assert.rejects(
      zero.allreduceSum(new Float64Array(1)),
      (error: StratumError) => error.code === 'COLLECTIVE_FAILED' && /rank\(s\) 1, 2 never joined/.test(error.message),
    );
    await zero.close();
  });

  test('a rank that fails stops the others with its reason', async () => {
    const [zero, one] = await openGroup(2);
    assert.ok(zero && one);
    const waiting = zero.allreduceSum(new Float64Array(4));
    await one.close(new Error('out of memory reading the data'));
    await assert.rejects(
      waiting,
      (error: StratumError) =>
        error.code === 'COLLECTIVE_FAILED' && /rank 1 failed: out of memory reading the data/.test(error.message),
    );
    await zero.close();
    await redis.del(`${groupPrefix(zero.group)}failed`);
  });

  test('bad options and an unreachable Redis are clear errors', async () => {
    const base = { url: URL_, group: 'g', rank: 0, worldSize: 2 };
    await assert.rejects(openRedisCollective({ ...base, rank: 2 }), /rank must be an integer in \[0, 1\], got 2/);
    await assert.rejects(openRedisCollective({ ...base, group: 'a b' }), /group must be/);
    await assert.rejects(openRedisCollective({ ...base, url: 'nats://x' }), /must be redis:\/\//);
    await assert.rejects(
      openRedisCollective({ ...base, url: 'redis://127.0.0.1:1' }),
      (error: StratumError) =>
        error.code === 'COLLECTIVE_FAILED' && /cannot reach Redis at redis:\/\/127.0.0.1:1/.test(error.message),
    );
  });
});
