/**
 * Memory is bounded: a ~300 MB CSV is streamed through csvDataset → map → batch(1024) by a child
 * process whose V8 heap is capped at 64 MB (--max-old-space-size=64). The same child reading the
 * file whole dies with a heap out-of-memory error, which shows the cap is tight enough to matter.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const HEAP_MB = 64;
/**
 * Per test: a hang guard, not a speed target. Each child took 8 s on a quiet machine and 23 s
 * with one core kept busy (60 s was the limit); five minutes leaves room for a busier one.
 */
const TIMEOUT_MS = 300_000;
const TARGET_BYTES = 300_000_000;
const ROWS_PER_BLOCK = 10_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./memory-bound-child.ts', import.meta.url));

let dir = '';
let path = '';
let rows = 0;
let valueTotal = 0;

/** Writes one block of rows over and over: fast, and the expected counts are known. */
async function writeLargeCsv(target: string): Promise<void> {
  const lines: string[] = [];
  let blockTotal = 0;
  for (let i = 0; i < ROWS_PER_BLOCK; i++) {
    const value = (i % 1000) * 0.25;
    blockTotal += value;
    lines.push(`${i},${value},label_${i % 7},"the quick brown fox, ${i % 97}, jumps over the lazy dog"`);
  }
  const block = Buffer.from(lines.join('\r\n') + '\r\n');
  const blocks = Math.ceil(TARGET_BYTES / block.length);
  const out = createWriteStream(target);
  out.write('id,value,label,text\r\n');
  for (let b = 0; b < blocks; b++) if (!out.write(block)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  rows = blocks * ROWS_PER_BLOCK;
  valueTotal = blocks * blockTotal;
}

function runChild(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, ...args], {
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

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-memory-'));
  path = join(dir, 'large.csv');
  await writeLargeCsv(path);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test(`streams a ~300 MB CSV under a ${HEAP_MB} MB heap`, { timeout: TIMEOUT_MS }, async (t) => {
  const { size } = await stat(path);
  assert.ok(size >= TARGET_BYTES && size > HEAP_MB * 1024 * 1024 * 4, `file is ${size} bytes`);
  const result = await runChild(['--import', 'tsx', CHILD, path]);
  assert.equal(result.code, 0, result.stderr.slice(-2000));
  const report = JSON.parse(result.stdout) as { rows: number; batches: number; total: number; maxRssKb: number };
  assert.equal(report.rows, rows);
  assert.equal(report.batches, Math.ceil(rows / 1024));
  assert.equal(report.total, valueTotal);
  t.diagnostic(
    `file ${(size / 1e6).toFixed(0)} MB, heap limit ${HEAP_MB} MB, child peak RSS ${(report.maxRssKb / 1024).toFixed(0)} MB`,
  );
});

test(
  `the control: reading the same file whole under a ${HEAP_MB} MB heap runs out of memory`,
  { timeout: TIMEOUT_MS },
  async () => {
    const script = `require('node:fs').readFileSync(process.argv[1], 'utf8').split('\\n').length`;
    const result = await runChild(['-e', script, path]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /heap out of memory|heap limit|Invalid string length/i);
  },
);
