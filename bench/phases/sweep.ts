/**
 * The server-settings sweep: Stratum under each configuration, loaded with binary REST at
 * concurrency 64 (mlp and cnn) and at concurrency 1 (every model: latency). The best configuration
 * has the highest geometric-mean throughput at 64 among those whose concurrency-1 p50 is, for every
 * model, within {@link LATENCY_SLACK_MS} of the best p50 for that model, so neither a queue delay
 * nor a thread layout can buy throughput with the latency target.
 */
import type { CellResult, SweepRow } from '../bench-results.ts';
import { runCell } from '../cell.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import { startStratum, type StratumSettings } from '../stratum/stratum-process.ts';
import type { BenchModel, ModelRequests } from '../workload.ts';
import { cellTiming, describeCell } from './matrix.ts';

/** The configurations tried. */
export const SWEEP_SETTINGS: readonly StratumSettings[] = Object.freeze([
  { label: 'w2/t1/d0', workers: 2, intraOpThreads: 1, maxQueueDelayMicroseconds: 0 },
  { label: 'w1/t2/d0', workers: 1, intraOpThreads: 2, maxQueueDelayMicroseconds: 0 },
  { label: 'w1/t1/d0', workers: 1, intraOpThreads: 1, maxQueueDelayMicroseconds: 0 },
  { label: 'w2/t1/d200', workers: 2, intraOpThreads: 1, maxQueueDelayMicroseconds: 200 },
  // A lone request on the main thread (config.json inlineRunMaxMicroseconds, off by default): no
  // worker hop at c=1; under load it never engages.
  {
    label: 'w2/t1/d200/i1000',
    workers: 2,
    intraOpThreads: 1,
    maxQueueDelayMicroseconds: 200,
    inlineRunMaxMicroseconds: 1000,
  },
  {
    label: 'w2/t1/d1000/p16,32',
    workers: 2,
    intraOpThreads: 1,
    maxQueueDelayMicroseconds: 1000,
    preferredBatchSizes: [16, 32],
  },
]);

/** The settings tried by `--quick`. */
export const QUICK_SWEEP_SETTINGS: readonly StratumSettings[] = Object.freeze(SWEEP_SETTINGS.slice(0, 3));

/**
 * A configuration may be this much slower at concurrency 1 than the fastest and still win. The
 * target is 0.3 ms of added latency over the raw batch-1 run, and the fastest configuration
 * already spends 0.15–0.3 ms of it (docs/BENCHMARKS.md); 0.5 ms let a 200 µs queue delay win
 * with 0.7 ms added. 0.1 ms is about the spread of one configuration's c=1 p50 between rounds.
 */
export const LATENCY_SLACK_MS = 0.1;

/** Options of {@link runSweep}. */
export interface RunSweepOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly repoDir: string;
  readonly models: readonly BenchModel[];
  readonly requests: ReadonlyMap<BenchModel, ModelRequests>;
  readonly settings: readonly StratumSettings[];
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Rounds over all configurations. */
  readonly rounds: number;
}

/**
 * Runs the sweep: for `rounds` rounds, each configuration in turn gets a fresh server (one server
 * up at a time), so slow drift on a shared machine hits all configurations alike; a
 * configuration's figures are the means over its rounds.
 */
export async function runSweep(options: RunSweepOptions): Promise<SweepRow[]> {
  const preferred = options.models.filter((m) => m === 'mlp' || m === 'cnn');
  const throughputModels = preferred.length > 0 ? preferred : options.models.slice(0, 1);
  // c=1 last: a server's first few thousand requests run slower (JIT), see warmFirst().
  const plan = [
    ...throughputModels.map((model) => ({ model, concurrency: 64 })),
    ...options.models.map((model) => ({ model, concurrency: 1 })),
  ];
  const cells = new Map<StratumSettings, CellResult[]>(options.settings.map((s) => [s, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const settings of options.settings) {
      const server = await startStratum({
        group: options.group,
        repoDir: options.repoDir,
        models: options.models,
        settings,
      });
      try {
        for (const { model, concurrency } of plan) {
          const cell = await runCell({
            group: options.group,
            server: {
              target: 'stratum',
              pid: server.pid,
              httpPort: server.httpPort,
              grpcPort: server.grpcPort,
              metricsUrl: server.httpUrl,
            },
            model,
            protocol: 'binary',
            concurrency,
            requests: options.requests.get(model) as ModelRequests,
            ...cellTiming({ ...options, c1Repeats: 1 }, concurrency),
          });
          (cells.get(settings) as CellResult[]).push(cell);
          options.progress.log(`sweep ${settings.label} round ${round}/${options.rounds}: ${describeCell(cell)}`);
        }
      } finally {
        await server.stop();
      }
    }
  }
  const rows = options.settings.map((settings) =>
    summarise(settings, cells.get(settings) as CellResult[], throughputModels),
  );
  return markEligible(rows);
}

/**
 * Marks as eligible the rows whose concurrency-1 p50 is, for every model, within `slackMs` of the
 * fastest row's for that model. A model no row has a figure for is left out; a row without a figure
 * that others have is not eligible.
 */
export function markEligible(
  rows: readonly Omit<SweepRow, 'eligible'>[],
  slackMs: number = LATENCY_SLACK_MS,
): SweepRow[] {
  const fastest = new Map<string, number>();
  for (const row of rows) {
    for (const [model, p50] of Object.entries(row.c1p50)) {
      if (Number.isFinite(p50)) fastest.set(model, Math.min(p50, fastest.get(model) ?? Infinity));
    }
  }
  return rows.map((r) => ({
    ...r,
    eligible: [...fastest].every(([model, best]) => (r.c1p50[model] ?? Number.NaN) <= best + slackMs),
  }));
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

function summarise(
  settings: StratumSettings,
  cells: readonly CellResult[],
  models: readonly BenchModel[],
): Omit<SweepRow, 'eligible'> {
  const at64: Record<string, { throughput: number; meanBatch: number }> = {};
  for (const model of models) {
    const mine = cells.filter((c) => c.concurrency === 64 && c.model === model);
    at64[model] = {
      throughput: mean(mine.map((c) => c.load.throughput)),
      meanBatch: mean(mine.map((c) => c.batch?.meanBatch ?? Number.NaN)),
    };
  }
  const throughputs = Object.values(at64).map((m) => m.throughput);
  const score = Math.exp(mean(throughputs.map((t) => Math.log(Math.max(t, 1e-9)))));
  const c1p50: Record<string, number> = {};
  for (const cell of cells) {
    if (cell.concurrency !== 1 || cell.model in c1p50) continue;
    c1p50[cell.model] = mean(
      cells.filter((c) => c.concurrency === 1 && c.model === cell.model).map((c) => c.load.latency.p50),
    );
  }
  return { settings, cells, at64, score, c1p50 };
}

/** The eligible row with the highest score. */
export function pickBest(rows: readonly SweepRow[]): SweepRow | undefined {
  let best: SweepRow | undefined;
  for (const row of rows) if (row.eligible && (best === undefined || row.score > best.score)) best = row;
  return best;
}
