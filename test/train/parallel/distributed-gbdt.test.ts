/**
 * Data-parallel GBDT across processes through Redis (127.0.0.1:6379), with real child processes:
 * two ranks train the model two worker threads train (identical trees), which predicts what one
 * process's model predicts within tolerance; a killed rank fails the other with its rank named;
 * two groups at once never mix; no key outlives a run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { GbdtModel } from '../../../src/train/gbdt/gbdt-model.ts';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { trainGbdt } from '../../../src/train/gbdt/train-gbdt.ts';
import type { CollectiveStats } from '../../../src/train/parallel/redis-collective.ts';
import { groupPrefix } from '../../../src/train/parallel/redis-collective.ts';
import { makeDataset } from '../gbdt/synthetic-data.ts';
import type { RankArgs } from './gbdt-rank.ts';

const URL_ = 'redis://127.0.0.1:6379';
const RANK_SCRIPT = fileURLToPath(new URL('./gbdt-rank.ts', import.meta.url));
const redis = new Redis(URL_);
after(() => redis.quit());

interface Rank {
  readonly child: ChildProcess;
  /** Lines written so far. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function startRank(args: RankArgs): Rank {
  const child = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, lines, exited };
}

function outcome(rank: Rank): {
  result?: { model: GbdtModel; stats: CollectiveStats };
  error?: { code: string; message: string };
} {
  for (const line of rank.lines) {
    if (line.startsWith('result ')) return { result: JSON.parse(line.slice(7)) };
    if (line.startsWith('error ')) return { error: JSON.parse(line.slice(6)) };
  }
  return {};
}

async function runGroup(args: Omit<RankArgs, 'rank' | 'group'>): Promise<{ group: string; ranks: Rank[] }> {
  const group = `test-${randomUUID()}`;
  const ranks = Array.from({ length: args.worldSize }, (_, rank) => startRank({ ...args, group, rank }));
  await Promise.all(ranks.map((r) => r.exited));
  return { group, ranks };
}

async function keysOf(group: string): Promise<string[]> {
  return redis.keys(`${groupPrefix(group)}*`);
}

const NUM_ROWS = 3000;
const SEED = 31;
const params = { numTrees: 12, maxDepth: 4, rowSubsample: 0.8, colSubsample: 0.75, seed: 5 };

describe('GBDT across processes over Redis', () => {
  test('2 processes train the model of 2 threads, equal to 1 process within 1e-6', async () => {
    const { group, ranks } = await runGroup({ url: URL_, worldSize: 2, numRows: NUM_ROWS, seed: SEED, params });
    const [zero, one] = ranks.map(outcome);
    assert.ok(zero?.result, `rank 0: ${ranks[0]?.lines.join('\n')}`);
    assert.ok(one?.result, `rank 1: ${ranks[1]?.lines.join('\n')}`);
    // Every rank grows the same trees itself.
    assert.deepEqual(one.result.model, zero.result.model);
    const data = makeDataset({ kind: 'binary', numRows: NUM_ROWS, seed: SEED });
    const threads = trainGbdt({ ...data, objective: 'binary', params: { ...params, workers: 2 } });
    assert.equal(JSON.stringify(zero.result.model), JSON.stringify(threads));
    const single = trainGbdt({ ...data, objective: 'binary', params });
    const heldOut = makeDataset({ kind: 'binary', numRows: 1000, seed: SEED + 1 });
    const a = predictGbdt(zero.result.model, heldOut.features).outputs;
    const b = predictGbdt(single, heldOut.features).outputs;
    assert.equal(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
    assert.ok(worst <= 1e-6, `largest prediction difference ${worst}`);
    // Histograms went both ways: each rank sent what the other received.
    assert.ok(zero.result.stats.bytesSent > 0);
    assert.equal(zero.result.stats.bytesSent, one.result.stats.bytesReceived);
    assert.equal(one.result.stats.bytesSent, zero.result.stats.bytesReceived);
    assert.deepEqual(await keysOf(group), []);
  });

  test('3 processes train the model of 3 threads: multiclass with validation and early stopping', async () => {
    const multiclass = {
      ...params,
      numTrees: 40,
      rowSubsample: 1,
      learningRate: 0.5,
      earlyStoppingRounds: 2,
    };
    const { ranks } = await runGroup({
      url: URL_,
      worldSize: 3,
      numRows: 1500,
      seed: 51,
      kind: 'multiclass',
      validationRows: 300,
      params: multiclass,
    });
    const outcomes = ranks.map(outcome);
    for (const o of outcomes) assert.ok(o.result, ranks.map((r) => r.lines.join('\n')).join('\n---\n'));
    const data = makeDataset({ kind: 'multiclass', numRows: 1500, seed: 51 });
    const validation = makeDataset({ kind: 'multiclass', numRows: 300, seed: 51 + 1000 });
    const threads = trainGbdt({
      ...data,
      objective: 'multiclass',
      numClasses: 3,
      params: { ...multiclass, validation, workers: 3 },
    });
    for (const o of outcomes) assert.equal(JSON.stringify(o.result?.model), JSON.stringify(threads));
    // Early stopping decided the same on every rank (it stopped before the budget here).
    assert.ok(threads.trees.length < 40, `trees ${threads.trees.length}`);
  });

  test('a killed rank fails the other, naming it, and leaves no keys behind', async () => {
    const group = `test-${randomUUID()}`;
    const common = { url: URL_, group, worldSize: 2, numRows: 20_000, seed: SEED, heartbeatMs: 500 };
    const slow = { ...params, numTrees: 100_000, maxDepth: 6, rowSubsample: 1, colSubsample: 1 };
    const ranks = [0, 1].map((rank) => startRank({ ...common, rank, params: slow }));
    const [zero, one] = ranks as [Rank, Rank];
    // Killed once training is under way (rank 1 has finished a round), not after a time.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (one.lines.some((line) => line.startsWith('round '))) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
    one.child.kill('SIGKILL');
    assert.equal(await zero.exited, 1);
    const { error } = outcome(zero);
    assert.ok(error, zero.lines.join('\n'));
    assert.equal(error.code, 'COLLECTIVE_FAILED');
    assert.match(error.message, /rank 1 is gone/);
    await one.exited;
    // Rank 0 removed its keys and its messages to rank 1 and left the reason; the killed rank's
    // own keys expire with its heartbeat.
    const left = await keysOf(group);
    const expected = (key: string): boolean => /:(alive:1|box:1:\d+|failed)$/.test(key);
    assert.ok(left.every(expected), left.join(', '));
    assert.ok(!left.some((key) => key.endsWith(':box:1:0')), left.join(', '));
    await redis.del(...(left.length > 0 ? left : ['none']));
  });

  test('two groups at once do not mix (one grows in batches, one under a leaf budget split by split)', async () => {
    const base = { url: URL_, worldSize: 2, numRows: 2000 };
    const batched = { ...params, numTrees: 6, rowSubsample: 1 };
    const budget = { ...batched, maxDepth: 5, maxLeaves: 7 };
    const [first, second] = await Promise.all([
      runGroup({ ...base, seed: 41, params: batched }),
      runGroup({ ...base, seed: 42, params: budget }),
    ]);
    for (const [run, seed, runParams] of [
      [first, 41, batched],
      [second, 42, budget],
    ] as const) {
      const [zero, one] = run.ranks.map(outcome);
      assert.ok(zero?.result && one?.result, run.ranks.map((r) => r.lines.join('\n')).join('\n---\n'));
      const data = makeDataset({ kind: 'binary', numRows: 2000, seed });
      const threads = trainGbdt({ ...data, objective: 'binary', params: { ...runParams, workers: 2 } });
      assert.equal(JSON.stringify(zero.result.model), JSON.stringify(threads));
      assert.deepEqual(one.result.model, zero.result.model);
    }
    // Batches: one exchange per depth (4) plus the loss, per tree; the budget: one per split.
    const perTree = (run: typeof first): number => (outcome(run.ranks[0] as Rank).result?.stats.operations ?? 0) / 6;
    assert.ok(perTree(first) <= 5 + 1 / 6, `batched: ${perTree(first)} operations per tree`);
    assert.ok(perTree(second) > 5, `budget: ${perTree(second)} operations per tree`);
  });

  test('ranks with other data fail, rank 0 with the reason of rank 1', async () => {
    const group = `test-${randomUUID()}`;
    const common = { url: URL_, group, worldSize: 2, params };
    const ranks = [
      startRank({ ...common, rank: 0, numRows: 1000, seed: 1 }),
      startRank({ ...common, rank: 1, numRows: 1000, seed: 2 }),
    ];
    await Promise.all(ranks.map((r) => r.exited));
    const [zero, one] = ranks.map(outcome);
    assert.equal(one?.error?.code, 'COLLECTIVE_FAILED');
    assert.match(one?.error?.message ?? '', /other data or parameters than rank 0/);
    assert.equal(zero?.error?.code, 'COLLECTIVE_FAILED');
    assert.match(zero?.error?.message ?? '', /rank 1 failed: .*other data/);
    await redis.del(`${groupPrefix(group)}failed`);
  });
});
