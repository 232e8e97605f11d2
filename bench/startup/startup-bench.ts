/**
 * The start-up benchmark: the CLI, a worker thread and the demo as the package runs them (compiled
 * JavaScript in dist/) beside the way they ran before it (tsx compiling the TypeScript sources at
 * run time, bench/startup/tsx-cli.js), in one run, interleaved so that both see the same machine.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../process/process-group.ts';
import { freePort } from '../process/free-port.ts';
import type { Progress } from '../progress.ts';

const COMPILED_CLI = join(REPO_ROOT, 'bin/stratum.js');
const TSX_CLI = join(REPO_ROOT, 'bench/startup/tsx-cli.js');
const WORKER_START = join(REPO_ROOT, 'bench/startup/worker-start.js');

/** One measure, before (tsx on the sources) and after (compiled). */
export interface StartupRow {
  readonly what: string;
  readonly runs: number;
  /** Median ms. */
  readonly source: number;
  /** Median ms. */
  readonly compiled: number;
}

/** Options of {@link runStartupBench}. */
export interface StartupBenchOptions {
  readonly progress: Progress;
  readonly workDir: string;
  /** Fewer runs and the demo's `--quick` data. */
  readonly quick: boolean;
}

interface Exit {
  readonly ms: number;
  readonly stdout: string;
}

function run(args: readonly string[], cwd: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs `measure` for both modes, alternating which goes first, and keeps every sample. */
async function alternate(
  runs: number,
  measure: (mode: 'source' | 'compiled') => Promise<number[]>,
): Promise<{ source: number[]; compiled: number[] }> {
  const samples = { source: [] as number[], compiled: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? (['source', 'compiled'] as const) : (['compiled', 'source'] as const);
    for (const mode of order) samples[mode].push(...(await measure(mode)));
  }
  return samples;
}

/** Measures `stratum --help`, a session worker's start and the demo, before and after. */
export async function runStartupBench(options: StartupBenchOptions): Promise<StartupRow[]> {
  const { progress, workDir, quick } = options;
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  await mkdir(workDir, { recursive: true });
  const cli = (mode: 'source' | 'compiled'): string => (mode === 'source' ? TSX_CLI : COMPILED_CLI);
  const rows: StartupRow[] = [];

  const helpRuns = quick ? 5 : 15;
  progress.log(`startup: stratum --help × ${helpRuns} each`);
  const help = await alternate(helpRuns, async (mode) => [(await run([cli(mode), '--help'], REPO_ROOT)).ms]);
  rows.push({ what: '`stratum --help` (process start to exit)', runs: helpRuns, ...medians(help) });

  const workerProcesses = quick ? 2 : 4;
  const perProcess = 5;
  progress.log(`startup: session worker start × ${workerProcesses * perProcess} each`);
  const worker = await alternate(workerProcesses, async (mode) => {
    const { stdout } = await run([WORKER_START, mode, String(perProcess)], REPO_ROOT);
    return JSON.parse(stdout) as number[];
  });
  rows.push({
    what: 'a worker thread (session worker: `new Worker` to ready, onnxruntime loaded)',
    runs: workerProcesses * perProcess,
    ...medians(worker),
  });

  const demoRuns = quick ? 1 : 2;
  const demoArgs = quick ? ['demo', '--once', '--quick'] : ['demo', '--once'];
  progress.log(`startup: ${demoArgs.join(' ')} × ${demoRuns} each (a fresh folder each run)`);
  let folder = 0;
  const demo = await alternate(demoRuns, async (mode) => {
    const cwd = join(workDir, `demo-${folder++}`);
    await mkdir(cwd);
    try {
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      const args = [cli(mode), ...demoArgs, '--http-port', String(httpPort), '--grpc-port', String(grpcPort)];
      const { ms } = await run(args, cwd);
      progress.log(`startup: demo (${mode}) ${(ms / 1000).toFixed(1)} s`);
      return [ms];
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
  rows.push({ what: `\`stratum ${demoArgs.join(' ')}\` (wall time)`, runs: demoRuns, ...medians(demo) });
  return rows;
}

function medians(samples: { source: number[]; compiled: number[] }): { source: number; compiled: number } {
  return { source: median(samples.source), compiled: median(samples.compiled) };
}

/** The Markdown section. */
export function renderStartupBench(rows: readonly StartupRow[]): string {
  const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`);
  return [
    '## Start-up (compiled package vs tsx on the sources)',
    '',
    '| what | runs | before: tsx on src/ (median) | after: compiled dist/ (median) | after / before |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.what} | ${r.runs} | ${ms(r.source)} | ${ms(r.compiled)} | ${(r.compiled / r.source).toFixed(2)}× |`,
    ),
    '',
  ].join('\n');
}
