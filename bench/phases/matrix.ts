/**
 * The main matrix: every model × concurrency × protocol, each against Stratum and its references
 * (transport ceiling; naive server for REST). The rows that are compared run back to back, all
 * servers up and idle but one, so slow drift on the machine hits them alike.
 */
import type { CellResult } from '../bench-results.ts';
import { type CellServer, runCell } from '../cell.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import type { BenchModel, ModelRequests, Protocol } from '../workload.ts';

/** The servers of the matrix. */
export interface MatrixServers {
  readonly stratum: CellServer;
  readonly transport?: CellServer;
  readonly naive?: CellServer;
}

/** Options of {@link runMatrix}. */
export interface RunMatrixOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly servers: MatrixServers;
  readonly requests: ReadonlyMap<BenchModel, ModelRequests>;
  readonly models: readonly BenchModel[];
  readonly protocols: readonly Protocol[];
  readonly concurrencies: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Runs of each concurrency-1 cell. */
  readonly c1Repeats: number;
}

/** Timing of one cell: concurrency-1 cells run several shorter times when `c1Repeats` > 1. */
export function cellTiming(
  options: { warmupMs: number; durationMs: number; c1Repeats: number },
  concurrency: number,
): { warmupMs: number; durationMs: number; repeats: number } {
  if (concurrency !== 1 || options.c1Repeats <= 1)
    return { warmupMs: options.warmupMs, durationMs: options.durationMs, repeats: 1 };
  return {
    warmupMs: Math.min(options.warmupMs, 500),
    durationMs: Math.max(500, Math.round(options.durationMs * 0.4)),
    repeats: options.c1Repeats,
  };
}

/** One progress line for a finished cell. */
export function describeCell(cell: CellResult): string {
  const l = cell.load;
  const batch = cell.batch === undefined ? '' : `  batch ${cell.batch.meanBatch.toFixed(1)}`;
  const runs = cell.p50Runs === undefined ? '' : ` (runs ${cell.p50Runs.map((p) => p.toFixed(2)).join('/')})`;
  const errors = l.errors > 0 ? `  ERRORS ${l.errors}: ${l.firstError ?? ''}` : '';
  return (
    `${cell.target.padEnd(9)} ${cell.protocol.padEnd(6)} ${cell.model.padEnd(11)} c=${String(cell.concurrency).padEnd(4)}` +
    ` ${Math.round(l.throughput).toLocaleString('en-US').padStart(7)} req/s  p50 ${l.latency.p50.toFixed(2)}${runs} p99 ${l.latency.p99.toFixed(2)} ms` +
    `${batch}  server main ${cell.serverCpu.mainPercent.toFixed(0)}% other ${cell.serverCpu.othersPercent.toFixed(0)}%` +
    `  loadgen ${l.cpuPercent.toFixed(0)}%  foreign ${cell.foreignCpuPercent.toFixed(0)}%` +
    `${cell.retries > 0 ? ` (retried ${cell.retries}×)` : ''}${errors}`
  );
}

/**
 * Concurrencies in the order they run: ascending, but concurrency 1 last. A server keeps getting
 * faster at concurrency 1 for its first several thousand requests (JIT tiers); measured first, c=1
 * looked 2–4× slower than the same server after the other cells (e.g. mlp p50 1.5 → 0.31 ms).
 */
export function warmFirst(concurrencies: readonly number[]): number[] {
  const sorted = [...concurrencies].sort((a, b) => a - b);
  return [...sorted.filter((c) => c !== 1), ...sorted.filter((c) => c === 1)];
}

/** Runs the matrix. */
export async function runMatrix(options: RunMatrixOptions): Promise<CellResult[]> {
  const { servers } = options;
  const plan: { server: CellServer; model: BenchModel; protocol: Protocol; concurrency: number }[] = [];
  for (const model of options.models) {
    for (const concurrency of warmFirst(options.concurrencies)) {
      for (const protocol of options.protocols) {
        const targets = [servers.stratum, servers.transport, protocol === 'grpc' ? undefined : servers.naive];
        for (const server of targets) if (server !== undefined) plan.push({ server, model, protocol, concurrency });
      }
    }
  }
  const cells: CellResult[] = [];
  for (const [index, step] of plan.entries()) {
    const requests = options.requests.get(step.model);
    if (requests === undefined) throw new Error(`no requests for ${step.model}`);
    const cell = await runCell({
      group: options.group,
      ...step,
      requests,
      ...cellTiming(options, step.concurrency),
    });
    cells.push(cell);
    options.progress.log(`(${index + 1}/${plan.length}) ${describeCell(cell)}`);
  }
  return cells;
}
