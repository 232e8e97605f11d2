/**
 * `npm run bench`: builds the fixture repository, sweeps server settings, then loads Stratum (a
 * separate process) and its references — transport ceiling, naive server, compute ceiling — from
 * load-generator processes, checks memory over load/unload cycles, swaps registry versions under
 * load, and prints one Markdown report (also written to bench/results/latest.md). Progress goes
 * to stderr. See bench/options.ts for the flags. Every child process is stopped on exit, error or
 * signal.
 */
import { renderExplainBench, runExplainBench } from './explain/explain-bench.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeFixtureRepository } from '../src/onnx/fixture-repository.ts';
import type { BenchRun, CeilingEntry, CellResult, MemoryResult, RolloutResult, SweepRow } from './bench-results.ts';
import { renderAsyncBench, runAsyncBench } from './async/async-bench.ts';
import { machineInfo } from './machine-info.ts';
import { type BenchOptions, parseBenchOptions } from './options.ts';
import { renderArtifactsBench, runArtifactsBench } from './artifacts/artifacts-bench.ts';
import { renderJsonReaderBench, runJsonReaderBench } from './json-reader/json-reader-bench.ts';
import { renderAuditBench, runAuditBench } from './audit/audit-bench.ts';
import { renderStatsBench, runStatsBench } from './stats/stats-bench.ts';
import { renderDriftBench, runDriftBench } from './drift/drift-bench.ts';
import { renderCardsBench, runCardsBench } from './cards/cards-bench.ts';
import { renderAuthBench, runAuthBench } from './auth/auth-bench.ts';
import { renderPeersBench, runPeersBench } from './peers/peers-bench.ts';
import { captureCanned } from './phases/capture-canned.ts';
import { measureCeilings } from './phases/ceilings.ts';
import { runMatrix } from './phases/matrix.ts';
import { runMemoryCheck } from './phases/memory.ts';
import { runRollouts } from './phases/rollouts.ts';
import { renderTracingBench, runTracingBench } from './tracing/tracing-bench.ts';
import { renderFrontEndsBench, runFrontEndsBench } from './front-ends/front-ends-bench.ts';
import { pickBest, QUICK_SWEEP_SETTINGS, runSweep, SWEEP_SETTINGS } from './phases/sweep.ts';
import { createProcessGroup, REPO_ROOT } from './process/process-group.ts';
import { createProgress } from './progress.ts';
import { renderQueueBench, runQueueBench } from './queue/queue-bench.ts';
import { renderReport } from './report.ts';
import { renderBatchBench, runBatchBench } from './batch/batch-bench.ts';
import { renderStartupBench, runStartupBench } from './startup/startup-bench.ts';
import { renderTrainingBench, runTrainingBench } from './training/training-bench.ts';
import { renderTuningBench, runTuningBench } from './tuning/tuning-bench.ts';
import { renderDistributedBench, runDistributedBench } from './distributed/distributed-bench.ts';
import { startStratum, type StratumSettings } from './stratum/stratum-process.ts';
import { type BenchModel, type ModelRequests, writeRequests } from './workload.ts';

/** Settings when neither the sweep nor flags choose: the server's defaults on this machine. */
const FALLBACK_SETTINGS = SWEEP_SETTINGS[0] as StratumSettings;
/** Other load above this (% of all cores) before the run makes the figures suspect. */
const BUSY_MACHINE_PERCENT = 15;

const options = parseBenchOptions(process.argv.slice(2));
const progress = createProgress();
const group = createProcessGroup({ verbose: options.verbose });
let workDir: string | undefined;

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await group.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress.log(`${signal}: stopping child processes`);
    void cleanup().finally(() => process.exit(130));
  });
}

function fixedSettings(fixed: NonNullable<BenchOptions['fixed']>): StratumSettings {
  const delay = fixed.maxQueueDelayMicroseconds;
  return { label: `w${fixed.workers}/t${fixed.intraOpThreads}${delay === undefined ? '' : `/d${delay}`}`, ...fixed };
}

/** What the sweep, matrix, ceilings and memory phases measured. */
interface ServingPhases {
  readonly sweep: SweepRow[];
  readonly settings: StratumSettings;
  readonly cells: CellResult[];
  readonly ceilings: CeilingEntry[];
  readonly batch1LatencyMs: BenchRun['batch1LatencyMs'];
  readonly memory: MemoryResult | undefined;
}

/** The settings sweep, the matrix against the references, the compute ceilings and the memory check. */
async function runServingPhases(phase: {
  workDir: string;
  repoDir: string;
  requests: ReadonlyMap<BenchModel, ModelRequests>;
  timing: BenchRun['timing'];
  settings: StratumSettings;
}): Promise<ServingPhases> {
  const { repoDir, requests, timing } = phase;
  let sweep: SweepRow[] = [];
  let settings = phase.settings;
  if (!options.skip.has('sweep')) {
    const candidates = options.quick ? QUICK_SWEEP_SETTINGS : SWEEP_SETTINGS;
    sweep = await runSweep({
      group,
      progress,
      repoDir,
      models: options.models,
      requests,
      settings: candidates,
      warmupMs: Math.min(options.warmupMs, 500),
      durationMs: Math.min(options.durationMs, 2000),
      rounds: options.sweepRounds,
    });
    settings = pickBest(sweep)?.settings ?? settings;
    progress.log(`sweep: best configuration ${settings.label}`);
  }

  progress.log(`starting stratum ${settings.label} and the reference servers`);
  const stratum = await startStratum({ group, repoDir, models: options.models, settings });
  const cannedPath = join(phase.workDir, 'canned.json');
  await captureCanned({ server: stratum, requests, path: cannedPath });
  const transport = options.skip.has('transport')
    ? undefined
    : await group.startService<{ httpPort: number; grpcPort: number }>('bench/references/transport-server.ts', [
        '--canned',
        cannedPath,
      ]);
  const naive = options.skip.has('naive')
    ? undefined
    : await group.startService<{ httpPort: number }>('bench/references/naive-server.ts', [
        '--models',
        repoDir,
        '--intra-op-threads',
        String(options.naiveIntraOpThreads),
        '--only',
        options.models.join(','),
      ]);
  const cells = await runMatrix({
    group,
    progress,
    servers: {
      stratum: {
        target: 'stratum',
        pid: stratum.pid,
        httpPort: stratum.httpPort,
        grpcPort: stratum.grpcPort,
        metricsUrl: stratum.httpUrl,
      },
      ...(transport !== undefined && {
        transport: {
          target: 'transport',
          pid: transport.pid,
          httpPort: transport.announced.httpPort,
          grpcPort: transport.announced.grpcPort,
        },
      }),
      ...(naive !== undefined && { naive: { target: 'naive', pid: naive.pid, httpPort: naive.announced.httpPort } }),
    },
    requests,
    models: options.models,
    protocols: options.protocols,
    concurrencies: options.concurrencies,
    ...timing,
  });
  await Promise.all([stratum.stop(), transport?.stop(), naive?.stop()]);

  let ceilings: CeilingEntry[] = [];
  let batch1LatencyMs: BenchRun['batch1LatencyMs'] = {};
  if (!options.skip.has('ceiling')) {
    ({ ceilings, batch1LatencyMs } = await measureCeilings({
      group,
      progress,
      repoDir,
      models: options.models,
      cells,
      settings,
      durationMs: Math.min(options.durationMs, 600),
    }));
  }
  let memory: MemoryResult | undefined;
  if (!options.skip.has('memory') && options.memoryCycles > 0) {
    memory = await runMemoryCheck({
      group,
      progress,
      repoDir,
      models: options.models,
      requests,
      settings,
      cycles: options.memoryCycles,
    });
  }
  return { sweep, settings, cells, ceilings, batch1LatencyMs, memory };
}

/** Prints a phase's own report and writes it to `--out`. */
async function writeReport(markdown: string): Promise<void> {
  process.stdout.write(markdown);
  const out = resolve(REPO_ROOT, options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, markdown);
  progress.log(`done in ${progress.elapsed().toFixed(0)} s; report written to ${out}`);
}

/** `--only training`: the training comparison alone, its own report. */
async function trainingOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runTrainingBench({ progress, workDir: join(dir, 'training'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum training benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${renderTrainingBench(result)}`;
  await writeReport(markdown);
}

/** `--only async`: online p99 with and without concurrent asynchronous inference, its own report. */
async function asyncOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runAsyncBench({ group, progress, workDir: join(dir, 'async'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum asynchronous inference benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${renderAsyncBench(result)}`;
  await writeReport(markdown);
}

/** `--only distributed`: GBDT on 1 vs 2 processes through Redis, its own report. */
async function distributedOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runDistributedBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum distributed training benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${renderDistributedBench(result)}`;
  await writeReport(markdown);
}

/** `--only startup`: the start-up comparison alone, its own report. */
async function startupOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = await runStartupBench({ progress, workDir: join(dir, 'startup'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum start-up benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${renderStartupBench(rows)}`;
  await writeReport(markdown);
}

/** `--only queue`: the job queue comparison alone, its own report. */
async function queueOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runQueueBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const load = `load average ${loadavg()[0]?.toFixed(1)} after the run`;
  const markdown = `# Stratum job queue benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run, ${load}\n\n${renderQueueBench(result)}`;
  await writeReport(markdown);
}

/** `--only batch`: batch inference against the raw session.run ceiling, its own report. */
async function batchOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runBatchBench({ progress, workDir: join(dir, 'batch'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum batch-inference benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderBatchBench(result)}`;
  await writeReport(markdown);
}

/** `--only tuning`: the tuning benchmark alone, its own report. */
async function tuningOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const workDir = join(dir, 'tuning');
  await mkdir(workDir, { recursive: true });
  const result = await runTuningBench({ progress, group, workDir, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum tuning benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}\n\n${renderTuningBench(result)}`;
  await writeReport(markdown);
}

/** `--only artifacts`: artifact load time encrypted against plain, its own report. */
async function artifactsOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = await runArtifactsBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum artifacts benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderArtifactsBench(rows)}`;
  await writeReport(markdown);
}

/** `--only json-reader`: FP32 JSON bodies decoded by the tensor-aware reader against JSON.parse, its own report. */
async function jsonReaderOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = runJsonReaderBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum JSON tensor reader benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderJsonReaderBench(rows)}`;
  await writeReport(markdown);
}

/** `--only audit`: audit-log appends against a metadata write, and the verifier, its own report. */
async function auditOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = await runAuditBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum audit log benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderAuditBench(rows)}`;
  await writeReport(markdown);
}

/** `--only stats`: the dashboard's serving statistics against a Prometheus scrape, its own report. */
async function statsOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = await runStatsBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum serving statistics benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderStatsBench(rows)}`;
  await writeReport(markdown);
}

/** `--only explain`: TreeSHAP against shap's TreeExplainer on the same trees, its own report. */
async function explainOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runExplainBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum explain benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderExplainBench(result)}`;
  await writeReport(markdown);
}

/** `--only drift`: drift computation beside SciPy's implementations of the same tests, its own report. */
async function driftOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runDriftBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum drift benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderDriftBench(result)}`;
  await writeReport(markdown);
}

/** `--only cards`: DP-SGD and permutation importance against ordinary training, its own report. */
async function cardsOnly(machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const rows = runCardsBench({ progress, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum model cards benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderCardsBench(rows)}`;
  await writeReport(markdown);
}

/** `--only tracing`: the cost of tracing and the inference log on serving throughput, its own report. */
async function tracingOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runTracingBench({ group, progress, workDir: join(dir, 'tracing'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const load = `load average ${loadavg()[0]?.toFixed(1)} after the run`;
  const markdown = `# Stratum tracing and inference log overhead\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run, ${load}\n\n${renderTracingBench(result)}`;
  await writeReport(markdown);
}

/** `--only auth`: serving throughput with authentication off, an API key and a JWT, its own report. */
async function authOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runAuthBench({ group, progress, workDir: join(dir, 'auth'), quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const markdown = `# Stratum authentication benchmark\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run\n\n${renderAuthBench(result)}`;
  await writeReport(markdown);
}

/** `--only peers`: Stratum beside FastAPI + onnxruntime and Ray Serve on the same models, its own report. */
async function peersOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const workDir = join(dir, 'peers');
  await mkdir(workDir, { recursive: true });
  const result = await runPeersBench({ group, progress, workDir, quick: options.quick });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const load = `load average ${loadavg()[0]?.toFixed(1)} after the run`;
  const markdown = `# Stratum beside its peers\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run, ${load}\n\n${renderPeersBench(result)}`;
  await writeReport(markdown);
}

/** `--only front-ends`: one event loop against N front-end processes, its own report. */
async function frontEndsOnly(dir: string, machine: Awaited<ReturnType<typeof machineInfo>>): Promise<void> {
  const result = await runFrontEndsBench({
    group,
    progress,
    workDir: join(dir, 'front-ends'),
    quick: options.quick,
    cores: machine.cores,
  });
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const load = `load average ${loadavg()[0]?.toFixed(1)} after the run`;
  const markdown = `# Stratum front ends: one event loop against N processes\n\n\`${command}\` — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run, ${load}\n\n${renderFrontEndsBench(result)}`;
  await writeReport(markdown);
}

async function main(): Promise<void> {
  const machine = await machineInfo();
  progress.log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}, onnxruntime-node ${machine.ort}`);
  if (machine.backgroundCpuPercent > BUSY_MACHINE_PERCENT) {
    progress.log(
      `warning: the machine was ${machine.backgroundCpuPercent.toFixed(0)}% busy before the run; figures will be noisy`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'stratum-bench-'));
  workDir = dir;
  if (options.onlyTraining) return trainingOnly(dir, machine);
  if (options.onlyStartup) return startupOnly(dir, machine);
  if (options.onlyAsync) return asyncOnly(dir, machine);
  if (options.onlyQueue) return queueOnly(machine);
  if (options.onlyBatch) return batchOnly(dir, machine);
  if (options.onlyTuning) return tuningOnly(dir, machine);
  if (options.onlyDistributed) return distributedOnly(machine);
  if (options.onlyArtifacts) return artifactsOnly(machine);
  if (options.onlyJsonReader) return jsonReaderOnly(machine);
  if (options.onlyAudit) return auditOnly(machine);
  if (options.onlyStats) return statsOnly(machine);
  if (options.onlyExplain) return explainOnly(machine);
  if (options.onlyDrift) return driftOnly(machine);
  if (options.onlyCards) return cardsOnly(machine);
  if (options.onlyTracing) return tracingOnly(dir, machine);
  if (options.onlyAuth) return authOnly(dir, machine);
  if (options.onlyPeers) return peersOnly(dir, machine);
  if (options.onlyFrontEnds) return frontEndsOnly(dir, machine);
  const repoDir = join(dir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: options.models });
  await mkdir(join(dir, 'requests'));
  const requests = new Map<BenchModel, ModelRequests>();
  for (const model of options.models) requests.set(model, await writeRequests(join(dir, 'requests'), model));
  const timing = { warmupMs: options.warmupMs, durationMs: options.durationMs, c1Repeats: options.c1Repeats };

  let sweep: SweepRow[] = [];
  let settings: StratumSettings = options.fixed === undefined ? FALLBACK_SETTINGS : fixedSettings(options.fixed);
  let cells: CellResult[] = [];
  let ceilings: CeilingEntry[] = [];
  let batch1LatencyMs: BenchRun['batch1LatencyMs'] = {};
  let memory: MemoryResult | undefined;
  if (!options.onlyRollouts) {
    ({ sweep, settings, cells, ceilings, batch1LatencyMs, memory } = await runServingPhases({
      workDir: dir,
      repoDir,
      requests,
      timing,
      settings,
    }));
  }
  let rollouts: RolloutResult | undefined;
  if (!options.skip.has('rollouts') && options.models.includes('mlp')) {
    progress.log(`rollouts: registry on a temporary store, stratum ${settings.label}`);
    rollouts = await runRollouts({
      group,
      progress,
      workDir: join(dir, 'rollouts'),
      request: (requests.get('mlp') as ModelRequests).binary,
      settings,
      ...options.rollouts,
    });
  }

  const run: BenchRun = {
    machine,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    timing,
    settings,
    naiveIntraOpThreads: options.naiveIntraOpThreads,
    sweep,
    sweepRounds: options.sweepRounds,
    cells,
    ceilings,
    batch1LatencyMs,
    ...(memory !== undefined && { memory }),
    ...(rollouts !== undefined && { rollouts }),
    elapsedSeconds: progress.elapsed(),
  };
  let training = '';
  if (!options.skip.has('training')) {
    training = renderTrainingBench(
      await runTrainingBench({ progress, workDir: join(dir, 'training'), quick: options.quick }),
    );
  }
  let startup = '';
  if (!options.skip.has('startup')) {
    startup = renderStartupBench(
      await runStartupBench({ progress, workDir: join(dir, 'startup'), quick: options.quick }),
    );
  }
  const markdown = `${renderReport(run)}\n${training}\n${startup}`;
  process.stdout.write(markdown);
  const out = resolve(REPO_ROOT, options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, markdown);
  await writeFile(out.replace(/\.md$/, '.json'), `${JSON.stringify(run, null, 2)}\n`);
  progress.log(`done in ${progress.elapsed().toFixed(0)} s; report written to ${out}`);
}

main()
  .catch((error: unknown) => {
    progress.log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
