/**
 * `stratum train --processes 2` as real processes (the compiled CLI and the rank it starts),
 * through Redis on 127.0.0.1:6379: one run recorded and one version registered, whose model is
 * the one two worker threads train; and a rank killed mid-training fails the run on rank 0 with
 * the rank named, leaving no version.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { BIN, runCli } from '../helpers/run-cli.ts';

async function specIn(dir: string, model: object, rows = 1500): Promise<string> {
  const dataPath = join(dir, 'data.csv');
  const lines = ['x1,x2,x3,label'];
  // A fixed, reproducible table: the label depends on x1 and x2 * x3.
  for (let i = 0; i < rows; i++) {
    const x1 = Math.sin(i * 0.37);
    const x2 = Math.cos(i * 0.11);
    const x3 = ((i * 7919) % 1000) / 1000;
    lines.push(`${x1},${x2},${x3},${x1 + x2 * x3 > 0.2 ? 1 : 0}`);
  }
  await writeFile(dataPath, `${lines.join('\n')}\n`);
  const specPath = join(dir, 'train.yaml');
  await writeFile(
    specPath,
    stringify({
      name: 'dist-cli',
      data: { source: { format: 'csv', path: dataPath }, label: 'label' },
      features: { transforms: ['x1', 'x2', 'x3'].map((column) => ({ column, transform: 'standardize' })) },
      model,
      register: { model: 'dist-cli' },
    }),
  );
  return specPath;
}

test('stratum train --processes 2 registers the model of 2 worker threads', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-dist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    STRATUM_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
  };
  const params = { numTrees: 15, maxDepth: 4, seed: 3 };
  const specPath = await specIn(dir, { kind: 'gbdt', objective: 'binary', params });
  const distributed = await runCli(['train', specPath, '--processes', '2', '--json'], env);
  assert.equal(distributed.code, 0, distributed.stderr);
  const result = JSON.parse(distributed.stdout) as {
    version: { version: number };
    metrics: Record<string, number>;
    distributed: { worldSize: number; bytesPerRound: number };
  };
  assert.equal(result.version.version, 1);
  assert.equal(result.distributed.worldSize, 2);
  assert.ok(result.distributed.bytesPerRound > 0);
  const threadsSpec = await specIn(dir, { kind: 'gbdt', objective: 'binary', workers: 2, params });
  const threads = await runCli(['train', threadsSpec, '--json'], env);
  assert.equal(threads.code, 0, threads.stderr);
  const threadsResult = JSON.parse(threads.stdout) as { metrics: Record<string, number> };
  // The same trees, so the same held-out metrics to the last digit.
  assert.deepEqual(result.metrics, threadsResult.metrics);
});

test('a rank killed mid-training fails rank 0 naming it, and nothing is registered', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-dist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    STRATUM_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
  };
  const specPath = await specIn(
    dir,
    { kind: 'gbdt', objective: 'binary', params: { numTrees: 100_000, maxDepth: 6 } },
    20_000,
  );
  const group = `test-kill-${process.pid}-${Date.now()}`;
  const start = (rank: number) =>
    spawn(
      process.execPath,
      [BIN, 'train', specPath, '--world-size', '2', '--rank', String(rank), '--group', group, '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );
  const zero = start(0);
  const one = start(1);
  const oneExited = once(one, 'exit');
  let zeroErr = '';
  zero.stderr.on('data', (d: Buffer) => (zeroErr += d.toString()));
  zero.stdout.resume();
  one.stdout.resume();
  // Rank 0's progress line shows training under way; then rank 1 dies.
  await new Promise<void>((resolve) => {
    const onData = (): void => {
      if (/training \[/.test(zeroErr)) {
        zero.stderr.off('data', onData);
        resolve();
      }
    };
    zero.stderr.on('data', onData);
  });
  one.kill('SIGKILL');
  const [code] = (await once(zero, 'exit')) as [number];
  assert.equal(code, 1, zeroErr);
  assert.match(zeroErr, /rank 1 is gone/);
  await oneExited;
  const store = await openMetadataStore({ url: env.STRATUM_DATABASE_URL });
  t.after(() => store.close());
  assert.deepEqual(
    (await store.listRuns()).items.map((r) => r.status),
    ['failed'],
  );
  assert.deepEqual((await store.listModels()).items, []);
});

test('distribution flags that do not fit together, and an unreachable Redis, fail before any run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-dist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    STRATUM_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
  };
  const specPath = await specIn(dir, { kind: 'gbdt', objective: 'binary', params: { numTrees: 2 } }, 100);
  const usage = await Promise.all([
    runCli(['train', specPath, '--processes', '2', '--rank', '1'], env),
    runCli(['train', specPath, '--world-size', '2', '--rank', '0'], env),
    runCli(['train', specPath, '--world-size', '2', '--rank', '2', '--group', 'g'], env),
  ]);
  assert.deepEqual(
    usage.map((r) => r.code),
    [2, 2, 2],
  );
  assert.match(usage[0]?.stderr ?? '', /--processes starts its own ranks/);
  assert.match(usage[1]?.stderr ?? '', /needs --world-size, --rank and --group together/);
  assert.match(usage[2]?.stderr ?? '', /--rank must be below --world-size \(2\), got 2/);
  const mlpDir = join(dir, 'mlp');
  await mkdir(mlpDir);
  const mlpSpec = await specIn(mlpDir, { kind: 'mlp', objective: 'binary' }, 100);
  const mlp = await runCli(['train', mlpSpec, '--processes', '2'], env);
  assert.equal(mlp.code, 1);
  assert.match(mlp.stderr, /training across processes trains gbdt models, not mlp/);
  const unreachable = await runCli(['train', specPath, '--processes', '2', '--collective', 'redis://127.0.0.1:1'], env);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  const store = await openMetadataStore({ url: env.STRATUM_DATABASE_URL });
  t.after(() => store.close());
  assert.deepEqual((await store.listRuns()).items, []);
});
