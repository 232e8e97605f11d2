/**
 * Memory is bounded for Parquet too: the bundled 3M-row flights file is streamed through
 * parquetDataset → batch(1024) by a child process whose V8 heap is capped at 48 MB. The same child
 * keeping every row dies with a heap out-of-memory error, which shows the cap is tight enough.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const HEAP_MB = 48;
/**
 * Per test: a hang guard, not a speed target. The control took 6 s on a quiet machine and 21 s
 * with one core kept busy (60 s was the limit); five minutes leaves room for a busier one.
 */
const TIMEOUT_MS = 300_000;
const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./duckdb-memory-bound-child.ts', import.meta.url));

function runChild(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', CHILD, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test(`streams the 3M rows of flights-3m.parquet under a ${HEAP_MB} MB heap`, { timeout: TIMEOUT_MS }, async (t) => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reference = (
    await connection.runAndReadAll(`SELECT count(*) AS n, sum(delay) AS delay FROM read_parquet('${FLIGHTS}')`)
  ).getRowObjectsJS()[0] as { n: bigint; delay: bigint };
  connection.closeSync();
  instance.closeSync();

  const result = await runChild([FLIGHTS]);
  assert.equal(result.code, 0, result.stderr.slice(-2000));
  const report = JSON.parse(result.stdout) as { rows: number; delay: number; maxRssKb: number };
  assert.equal(report.rows, 3_000_000);
  assert.equal(report.rows, Number(reference.n));
  assert.equal(report.delay, Number(reference.delay));
  t.diagnostic(`heap limit ${HEAP_MB} MB, child peak RSS ${(report.maxRssKb / 1024).toFixed(0)} MB`);
});

test(
  `the control: keeping every row under a ${HEAP_MB} MB heap runs out of memory`,
  { timeout: TIMEOUT_MS },
  async () => {
    const result = await runChild([FLIGHTS, 'whole']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /heap out of memory|heap limit/i);
  },
);
