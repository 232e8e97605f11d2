/**
 * The tuning benchmark (`--only tuning`):
 * 1. throughput: one experiment of fixed trials (random search, no scheduler) as a `tune` job on
 *    the embedded queue, its `trial` jobs taken by 1 and then 2 worker processes
 *    (`trial-worker.ts`, one trial at a time each, warmed up by an untimed experiment of two trials
 *    each); trials/hour from submission to the tune job's end;
 * 2. ASHA against a full grid at equal budget: the grid's every point trained to maxResource, and
 *    an ASHA experiment (random search, run in this process, one trial at a time) cut at the first
 *    trials whose resource adds up to the grid's; the best held-out RMSE of each. Trials run one at
 *    a time here, so trial k saw exactly trials 0…k−1 and the cut is what a run stopped at that
 *    budget would have done.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { runExperiment } from '../../src/jobs/tune/run-experiment.ts';
import { inProcessLauncher, jobFinished } from '../../src/jobs/tune/trial-launchers.ts';
import { tuneJobHandlers } from '../../src/jobs/tune/tune-jobs.ts';
import { parseInlineTuneSpec } from '../../src/jobs/tune/tune-spec.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import type { TrialRecord } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';

const WORKER = fileURLToPath(new URL('./trial-worker.ts', import.meta.url));

/** Options of {@link runTuningBench}. */
export interface TuningBenchOptions {
  readonly progress: Progress;
  readonly group: ProcessGroup;
  readonly workDir: string;
  readonly quick: boolean;
}

/** One throughput measurement. */
export interface ThroughputRow {
  readonly workers: number;
  readonly trials: number;
  readonly seconds: number;
  readonly trialsPerHour: number;
}

/** One side of the equal-budget comparison. */
export interface BudgetRow {
  readonly what: string;
  readonly trials: number;
  /** Trees trained in all. */
  readonly resource: number;
  /** Wall time of those trials (one at a time: the sum of their durations). */
  readonly seconds: number;
  readonly bestRmse: number;
}

/** What the tuning benchmark measured. */
export interface TuningBenchResult {
  readonly rows: number;
  readonly throughput: ThroughputRow[];
  readonly budget: BudgetRow[];
}

/** y = sin(3·x1) + x2² − 0.5·x3 + 0.3·x4·x5 + noise, with three pure-noise columns. */
function writeData(folder: string, rows: number): string {
  const random = mulberry32(17);
  const lines = ['x1,x2,x3,x4,x5,n1,n2,n3,y'];
  for (let i = 0; i < rows; i++) {
    const x = Array.from({ length: 8 }, () => random() * 2 - 1);
    const [x1, x2, x3, x4, x5] = x as [number, number, number, number, number];
    const y = Math.sin(3 * x1) + x2 * x2 - 0.5 * x3 + 0.3 * x4 * x5 + (random() - 0.5) * 0.3;
    lines.push([...x, y].map((v) => v.toFixed(5)).join(','));
  }
  const path = join(folder, 'tuning.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function train(dataPath: string, numTrees: number): Record<string, unknown> {
  return {
    name: 'bench-tuning',
    data: { source: { format: 'csv', path: dataPath }, label: 'y' },
    split: { validation: 0.25, seed: 1 },
    features: {
      transforms: ['x1', 'x2', 'x3', 'x4', 'x5', 'n1', 'n2', 'n3'].map((column) => ({
        column,
        transform: 'standardize',
      })),
    },
    model: { kind: 'gbdt', objective: 'regression', params: { numTrees, maxBins: 64 } },
  };
}

const SPACE = {
  'model.params.learningRate': { loguniform: [0.02, 0.5] },
  'model.params.maxDepth': { int: [2, 6] },
  'model.params.rowSubsample': { uniform: [0.5, 1] },
};

/** Runs the tuning benchmark. */
export async function runTuningBench(options: TuningBenchOptions): Promise<TuningBenchResult> {
  const { progress, workDir } = options;
  const rows = options.quick ? 10_000 : 20_000;
  const dataPath = writeData(workDir, rows);
  const databaseUrl = `sqlite:${join(workDir, 'stratum.db')}`;
  const artifactsUrl = `file:${join(workDir, 'artifacts')}`;
  const logger = createLogger({ level: 'error' });
  const store = await openMetadataStore({ url: databaseUrl, pollMs: 50, logger });
  const artifacts = await openArtifactStore({ url: artifactsUrl });
  try {
    // 1, 2, 2, 1 (quick: 1, 2): the machine's load drifts, so each count is measured early and late.
    const order = options.quick ? [1, 2] : [1, 2, 2, 1];
    const measured: ThroughputRow[] = [];
    for (const workers of order) {
      const row = await measureThroughput({ ...options, workers, dataPath, databaseUrl, artifactsUrl });
      measured.push(row);
      progress.log(`tuning: ${workers} worker(s): ${row.trials} trials in ${row.seconds.toFixed(1)} s`);
    }
    const throughput = [1, 2].map((workers) => pooled(measured.filter((r) => r.workers === workers)));
    const budget = await compareAtEqualBudget({ store, artifacts, dataPath, workDir, quick: options.quick });
    for (const row of budget)
      progress.log(`tuning: ${row.what}: best rmse ${row.bestRmse.toFixed(4)} (${row.resource} trees)`);
    return { rows, throughput, budget };
  } finally {
    await store.close();
  }
}

/** Several runs with the same worker count as one: trials and seconds summed. */
function pooled(rows: readonly ThroughputRow[]): ThroughputRow {
  const trials = rows.reduce((n, r) => n + r.trials, 0);
  const seconds = rows.reduce((n, r) => n + r.seconds, 0);
  return { workers: rows[0]?.workers ?? 0, trials, seconds, trialsPerHour: (trials / seconds) * 3600 };
}

async function measureThroughput(
  args: TuningBenchOptions & {
    workers: number;
    dataPath: string;
    databaseUrl: string;
    artifactsUrl: string;
  },
): Promise<ThroughputRow> {
  const { group, workers, databaseUrl, artifactsUrl } = args;
  const trials = args.quick ? 6 : 12;
  const queueName = `bench-tuning-${randomUUID()}`;
  const services = await Promise.all(
    Array.from({ length: workers }, () =>
      group.startService<{ ready: boolean }>(
        WORKER,
        [JSON.stringify({ databaseUrl, artifactsUrl, queueName })],
        60_000,
      ),
    ),
  );
  const logger = createLogger({ level: 'error' });
  const store = await openMetadataStore({ url: databaseUrl, pollMs: 50, logger });
  const artifacts = await openArtifactStore({ url: artifactsUrl });
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name: queueName, pollMs: 20 });
  try {
    const { tune } = tuneJobHandlers({ store, artifacts, queue });
    const coordinator = queue.work({ kinds: ['tune'], concurrency: 1, handler: tune });
    const experiment = async (name: string, count: number): Promise<number> => {
      const spec = parseInlineTuneSpec({
        name,
        train: train(args.dataPath, 64),
        space: SPACE,
        searcher: { type: 'random', seed: 3 },
        trials: count,
        maxConcurrentTrials: workers,
      });
      const started = performance.now();
      const job = await queue.submit({ kind: 'tune', payload: { spec, baseDir: args.workDir }, attempts: 1 });
      const finished = await jobFinished(queue, job.id);
      const seconds = (performance.now() - started) / 1000;
      if (finished.state !== 'completed') {
        throw new Error(`the tune job ended ${finished.state}: ${finished.error?.message}`);
      }
      const failed = (await store.listTrials(job.id)).filter((t) => t.status !== 'completed');
      if (failed.length > 0) {
        throw new Error(`trial ${failed[0]?.number} ended ${failed[0]?.status}: ${failed[0]?.error}`);
      }
      return seconds;
    };
    // Two trials per worker first, untimed: every worker process warms its JIT before the timed run.
    await experiment(`warm-up-${workers}`, 2 * workers);
    const seconds = await experiment(`throughput-${workers}`, trials);
    await coordinator.close();
    return { workers, trials, seconds, trialsPerHour: (trials / seconds) * 3600 };
  } finally {
    await queue.close();
    await store.close();
    await Promise.all(services.map((s) => s.stop(2000)));
  }
}

async function runHere(args: {
  store: Awaited<ReturnType<typeof openMetadataStore>>;
  artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
  input: Record<string, unknown>;
  workDir: string;
}): Promise<readonly TrialRecord[]> {
  const { store, artifacts } = args;
  const id = randomUUID();
  const result = await runExperiment({
    id,
    spec: parseInlineTuneSpec(args.input),
    store,
    artifacts,
    by: 'bench',
    launcher: inProcessLauncher({
      experimentId: id,
      context: { store, artifacts, by: 'bench', baseDir: args.workDir },
    }),
  });
  return result.trials;
}

async function compareAtEqualBudget(args: {
  store: Awaited<ReturnType<typeof openMetadataStore>>;
  artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
  dataPath: string;
  workDir: string;
  quick: boolean;
}): Promise<BudgetRow[]> {
  const maxResource = 64;
  const points = args.quick ? 2 : 3;
  const grid = await runHere({
    ...args,
    input: {
      name: 'grid',
      train: train(args.dataPath, maxResource),
      space: SPACE,
      searcher: { type: 'grid', points },
      trials: 10_000,
    },
  });
  const budget = grid.reduce((sum, t) => sum + (t.resource ?? 0), 0);
  const ashaRow = async (searcher: Record<string, unknown>, what: string): Promise<BudgetRow> => {
    const asha = await runHere({
      ...args,
      input: {
        name: `asha-${String(searcher.type)}`,
        train: train(args.dataPath, maxResource),
        space: SPACE,
        searcher,
        trials: Math.ceil(budget / 8),
        scheduler: { type: 'asha', gracePeriod: 4, reductionFactor: 3 },
      },
    });
    let spent = 0;
    return budgetRow(
      what,
      asha.filter((t) => (spent += t.resource ?? 0) <= budget),
    );
  };
  return [
    budgetRow(`full grid (${grid.length} points × ${maxResource} trees)`, grid),
    await ashaRow({ type: 'random', seed: 3 }, "random search + ASHA (grace 4, η 3), cut at the grid's budget"),
    await ashaRow({ type: 'tpe', seed: 3 }, "TPE + ASHA (grace 4, η 3), cut at the grid's budget"),
  ];
}

function budgetRow(what: string, trials: readonly TrialRecord[]): BudgetRow {
  return {
    what,
    trials: trials.length,
    resource: trials.reduce((sum, t) => sum + (t.resource ?? 0), 0),
    seconds: trials.reduce((sum, t) => sum + ((t.finishedAt ?? t.createdAt) - t.createdAt), 0) / 1000,
    bestRmse: Math.min(...trials.map((t) => t.value ?? Infinity)),
  };
}

/** The benchmark's Markdown section. */
export function renderTuningBench(result: TuningBenchResult): string {
  const base = result.throughput[0]?.trialsPerHour ?? 1;
  const lines = [
    `Synthetic regression, ${result.rows.toLocaleString('en-US')} rows × 8 columns, GBDT; trials read the CSV, train, evaluate and store their artifacts like any run.`,
    '',
    '| trial workers (processes) | trials | seconds | trials/hour | vs 1 worker |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.throughput.map(
      (r) =>
        `| ${r.workers} | ${r.trials} | ${r.seconds.toFixed(1)} | ${Math.round(r.trialsPerHour).toLocaleString('en-US')} | ${(r.trialsPerHour / base).toFixed(2)}× |`,
    ),
    '',
    '| equal budget | trials | trees trained | trial seconds | best held-out RMSE |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.budget.map(
      (r) => `| ${r.what} | ${r.trials} | ${r.resource} | ${r.seconds.toFixed(1)} | ${r.bestRmse.toFixed(4)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
