/**
 * `npm run bench -- --only explain` (or `--only treeshap`): exact TreeSHAP for 1,000 rows on a 200-tree GBDT (depth 6),
 * Stratum's TypeScript against shap's C++ `TreeExplainer` on the same trees and covers (passed to
 * shap as custom tree dicts) in the same run, single-threaded both; the values must agree. The
 * same rows then go through the server's explain thread, with the event loop's longest stall.
 * shap comes from a virtual environment (see docs/BENCHMARKS.md); without one the reference is
 * skipped with a message.
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExplainer } from '../../src/explain/read-explainer.ts';
import { createExplainRunner } from '../../src/serving/explain-runner.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { exportGbdtOnnx } from '../../src/train/gbdt/export-onnx.ts';
import type { GbdtModel } from '../../src/train/gbdt/gbdt-model.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import type { Progress } from '../progress.ts';

/** Interpreters tried in order: the first that imports shap is the reference. */
const PYTHONS = ['/tmp/venv-explain/bin/python', '/usr/bin/python3'];
const PEER = fileURLToPath(new URL('./shap-peer.py', import.meta.url));
const NUM_FEATURES = 10;

/** What the explain benchmark measured. */
export interface ExplainBenchResult {
  readonly rows: number;
  readonly trees: number;
  readonly maxDepth: number;
  readonly stratumSeconds: number;
  /** The same rows through the explain thread the server uses (one run, thread already started). */
  readonly threadSeconds: number;
  /** Longest event-loop stall (ms) while the thread computed them. */
  readonly threadMaxStallMs: number;
  /** Share of that time the main thread's event loop was busy (`performance.eventLoopUtilization`). */
  readonly threadLoopUtilization: number;
  readonly shapSeconds: number | undefined;
  readonly shapVersion: string | undefined;
  /** Largest |Stratum − shap| over every value. */
  readonly maxAbsDiff: number | undefined;
  readonly notes: string[];
}

function synthetic(rows: number, seed: number): { features: Float32Array; labels: Float32Array } {
  const random = mulberry32(seed);
  const features = new Float32Array(rows * NUM_FEATURES);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < NUM_FEATURES; j++) features[r * NUM_FEATURES + j] = random() * 2 - 1;
    const x = (j: number): number => features[r * NUM_FEATURES + j] as number;
    labels[r] = 3 * Math.sin(2 * x(0)) + 2 * x(1) * x(2) + x(3) - x(4) * x(5) + 0.2 * (random() - 0.5);
  }
  return { features, labels };
}

async function shapPython(): Promise<string | undefined> {
  for (const python of PYTHONS) {
    if (!existsSync(python)) continue;
    const child = spawn(python, ['-c', 'import shap'], { stdio: 'ignore' });
    if ((await new Promise((resolve) => child.on('close', resolve))) === 0) return python;
  }
  return undefined;
}

async function runPeer(python: string, args: string[]): Promise<{ seconds: number; shap: string }> {
  const child = spawn(python, [PEER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`shap peer failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as { seconds: number; shap: string };
}

/**
 * The rows explained by the server's explain thread, with the event loop's longest stall meanwhile
 * (a timer keeps the loop busy, so the histogram sees every turn).
 */
async function throughThread(
  bytes: Uint8Array,
  features: Float32Array,
): Promise<{ seconds: number; maxStallMs: number; loopUtilization: number }> {
  const runner = createExplainRunner({ bytes, target: 'bench model' });
  try {
    await runner.explain(features.subarray(0, 10 * NUM_FEATURES));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    const ticker = setInterval(() => undefined, 5);
    delay.enable();
    const before = performance.eventLoopUtilization();
    const start = performance.now();
    await runner.explain(features);
    const seconds = (performance.now() - start) / 1000;
    const loopUtilization = performance.eventLoopUtilization(before).utilization;
    delay.disable();
    clearInterval(ticker);
    return { seconds, maxStallMs: delay.max / 1e6, loopUtilization };
  } finally {
    await runner.close();
  }
}

/** Runs the benchmark. */
export async function runExplainBench(options: { progress: Progress; quick: boolean }): Promise<ExplainBenchResult> {
  const { progress } = options;
  const trees = options.quick ? 50 : 200;
  const maxDepth = 6;
  const rows = 1000;
  const repeats = 3;
  progress.log(`explain: training ${trees} trees of depth ${maxDepth} on 20,000 rows`);
  const train = synthetic(20_000, 1);
  const model: GbdtModel = trainGbdt({
    ...train,
    numFeatures: NUM_FEATURES,
    objective: 'regression',
    params: { numTrees: trees, maxDepth, learningRate: 0.1, seed: 1 },
  });
  // The served path: the explainer is read back from the exported ONNX model and its metadata.
  const explainer = readExplainer(exportGbdtOnnx(model), 'bench model');
  const { features } = synthetic(rows, 2);
  explainer.explain(features.subarray(0, 10 * NUM_FEATURES));
  let stratumSeconds = Infinity;
  let values: ArrayLike<number> = new Float64Array(0);
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    values = explainer.explain(features).values;
    stratumSeconds = Math.min(stratumSeconds, (performance.now() - start) / 1000);
  }
  progress.log(`explain: Stratum ${stratumSeconds.toFixed(3)} s for ${rows} rows`);
  const served = await throughThread(exportGbdtOnnx(model), features);
  progress.log(
    `explain: through the explain thread ${served.seconds.toFixed(3)} s, longest event-loop stall ${served.maxStallMs.toFixed(1)} ms`,
  );
  const thread = {
    threadSeconds: served.seconds,
    threadMaxStallMs: served.maxStallMs,
    threadLoopUtilization: served.loopUtilization,
  };
  const notes: string[] = [];
  const python = await shapPython();
  if (python === undefined) {
    notes.push(`no Python with shap among ${PYTHONS.join(', ')}: the reference was skipped (see docs/BENCHMARKS.md)`);
    return {
      rows,
      trees,
      maxDepth,
      stratumSeconds,
      ...thread,
      shapSeconds: undefined,
      shapVersion: undefined,
      maxAbsDiff: undefined,
      notes,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'stratum-explain-bench-'));
  try {
    const job = {
      numFeatures: NUM_FEATURES,
      base: model.baseScore[0],
      repeats,
      rows: Array.from(features),
      trees: model.trees.map(([tree]) => tree),
    };
    await writeFile(join(dir, 'job.json'), JSON.stringify(job));
    const peer = await runPeer(python, [join(dir, 'job.json'), join(dir, 'values.f64')]);
    const bytes = await readFile(join(dir, 'values.f64'));
    const reference = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    let maxAbsDiff = 0;
    for (let i = 0; i < values.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs((values[i] as number) - (reference[i] as number)));
    }
    progress.log(`explain: shap ${peer.seconds.toFixed(3)} s, max |Δ| ${maxAbsDiff.toExponential(2)}`);
    return {
      rows,
      trees,
      maxDepth,
      stratumSeconds,
      ...thread,
      shapSeconds: peer.seconds,
      shapVersion: peer.shap,
      maxAbsDiff,
      notes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report section. */
export function renderExplainBench(result: ExplainBenchResult): string {
  const lines = [
    `TreeSHAP (exact, path-dependent), ${result.rows} rows, ${result.trees} trees of depth ${result.maxDepth}, ${NUM_FEATURES} features, one thread, best of 3:`,
    '',
    '| implementation | seconds | rows/s | vs shap |',
    '| --- | --- | --- | --- |',
    `| Stratum (TypeScript) | ${result.stratumSeconds.toFixed(3)} | ${(result.rows / result.stratumSeconds).toFixed(0)} | ${result.shapSeconds === undefined ? '—' : `${(result.stratumSeconds / result.shapSeconds).toFixed(2)}× the time`} |`,
    `| Stratum, the server's explain thread (one run) | ${result.threadSeconds.toFixed(3)} | ${(result.rows / result.threadSeconds).toFixed(0)} | ${result.shapSeconds === undefined ? '—' : `${(result.threadSeconds / result.shapSeconds).toFixed(2)}× the time`} |`,
  ];
  if (result.shapSeconds !== undefined) {
    lines.push(
      `| shap ${result.shapVersion ?? ''} TreeExplainer (C++) | ${result.shapSeconds.toFixed(3)} | ${(result.rows / result.shapSeconds).toFixed(0)} | 1.00× |`,
      '',
      `Largest |Stratum − shap| over all values: ${result.maxAbsDiff?.toExponential(2) ?? '—'}.`,
    );
  }
  lines.push(
    '',
    `While the explain thread computed the ${result.rows} rows, the main thread's event loop was busy ${(100 * result.threadLoopUtilization).toFixed(1)}% of the time (event-loop utilization), its longest stall ${result.threadMaxStallMs.toFixed(1)} ms; computed inline, the whole computation is one stall.`,
  );
  for (const note of result.notes) lines.push('', note);
  return lines.join('\n');
}
