/**
 * Runs one cell: a load-generator child against one server, sampling the server's CPU (and, for
 * Stratum, the batch sizes it formed) exactly at the measurement window the generator announces.
 */
import type { CellResult, Target } from './bench-results.ts';
import type { LoadEvent, LoadResult } from './load/load-result.ts';
import type { ProcessGroup } from './process/process-group.ts';
import { type CpuSnapshot, cpuBetween, cpuSnapshot, waitForQuiet } from './process/proc-stats.ts';
import { batchDelta, type BatchSnapshot, scrapeBatches } from './stratum/server-metrics.ts';
import { type BenchModel, type ModelRequests, type Protocol, restLoadTarget } from './workload.ts';

/** A server a cell can load. */
export interface CellServer {
  readonly target: Target;
  readonly pid: number;
  readonly httpPort: number;
  readonly grpcPort?: number;
  /** Set for Stratum: where /metrics is scraped. */
  readonly metricsUrl?: string;
}

/** Options of {@link runCell}. */
export interface RunCellOptions {
  readonly group: ProcessGroup;
  readonly server: CellServer;
  readonly model: BenchModel;
  readonly protocol: Protocol;
  readonly concurrency: number;
  readonly requests: ModelRequests;
  readonly warmupMs: number;
  readonly durationMs: number;
  /**
   * Independent measurements (each its own load-generator process); the one with the median p50 is
   * kept. Thread placement on a small VM makes one concurrency-1 run land anywhere in a ±50% band.
   * @default 1
   */
  readonly repeats?: number;
}

/** Builds the generator's command line. */
function loadCommand(options: RunCellOptions): { script: string; args: string[] } {
  const { server, model, protocol, concurrency, requests } = options;
  const timing = [
    '--concurrency',
    String(concurrency),
    '--warmup-ms',
    String(options.warmupMs),
    '--duration-ms',
    String(options.durationMs),
  ];
  if (protocol === 'grpc') {
    if (server.grpcPort === undefined) throw new Error(`${server.target} has no gRPC port`);
    return {
      script: 'bench/load/grpc-load.ts',
      args: ['--port', String(server.grpcPort), '--body', requests.grpc.path, ...timing],
    };
  }
  return {
    script: 'bench/load/rest-load.ts',
    args: [...restLoadTarget(server.httpPort, model, requests[protocol]), ...timing],
  };
}

/** Foreign CPU (% of one core) above which a cell is measured again. */
export const FOREIGN_CPU_LIMIT_PERCENT = 20;
/** How often a disturbed cell is measured again before the least disturbed measurement is kept. */
export const MAX_RETRIES = 2;
/** Before each measurement, wait this long at most for the machine to be idle. */
const QUIET_WAIT_MS = 15_000;

/**
 * Runs the cell once the machine is idle (other processes below {@link FOREIGN_CPU_LIMIT_PERCENT},
 * waiting at most 15 s); while other processes still used more than that during the window,
 * measures it again (at most {@link MAX_RETRIES} times) and keeps the least disturbed measurement.
 */
export async function runCell(options: RunCellOptions): Promise<CellResult> {
  const repeats = options.repeats ?? 1;
  if (repeats <= 1) return runUndisturbed(options);
  const runs: CellResult[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await runUndisturbed(options));
  const byP50 = [...runs].sort((a, b) => a.load.latency.p50 - b.load.latency.p50);
  const median = byP50[Math.floor(byP50.length / 2)] as CellResult;
  return { ...median, p50Runs: runs.map((r) => r.load.latency.p50) };
}

async function runUndisturbed(options: RunCellOptions): Promise<CellResult> {
  let best: CellResult | undefined;
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
    await waitForQuiet({ limitPercent: FOREIGN_CPU_LIMIT_PERCENT, maxWaitMs: QUIET_WAIT_MS });
    const cell = { ...(await measureCell(options)), retries: attempt };
    if (best === undefined || cell.foreignCpuPercent < best.foreignCpuPercent) best = cell;
    if (cell.foreignCpuPercent <= FOREIGN_CPU_LIMIT_PERCENT) break;
  }
  return best as CellResult;
}

async function measureCell(options: RunCellOptions): Promise<CellResult> {
  const { server } = options;
  const { script, args } = loadCommand(options);
  let cpuStart: CpuSnapshot | undefined;
  let cpuEnd: CpuSnapshot | undefined;
  let batchesStart: Promise<BatchSnapshot> | undefined;
  let batchesEnd: Promise<BatchSnapshot> | undefined;
  const load = await options.group.runJson<LoadResult>(script, args, {
    timeoutMs: options.warmupMs + options.durationMs + 60_000,
    onLine: (line) => {
      if (!line.startsWith('{"event"')) return;
      const { event } = JSON.parse(line) as LoadEvent;
      if (event === 'measure-start') {
        cpuStart = cpuSnapshot(server.pid);
        if (server.metricsUrl !== undefined) batchesStart = scrapeBatches(server.metricsUrl);
      } else {
        cpuEnd = cpuSnapshot(server.pid);
        if (server.metricsUrl !== undefined) batchesEnd = scrapeBatches(server.metricsUrl);
      }
    },
  });
  if (cpuStart === undefined || cpuEnd === undefined)
    throw new Error(`${script} never announced its measurement window`);
  const serverCpu = cpuBetween(cpuStart, cpuEnd);
  const result: CellResult = {
    target: server.target,
    model: options.model,
    protocol: options.protocol,
    concurrency: options.concurrency,
    load,
    serverCpu,
    foreignCpuPercent: Math.max(
      0,
      serverCpu.machinePercent - serverCpu.mainPercent - serverCpu.othersPercent - load.cpuPercent,
    ),
    retries: 0,
  };
  if (batchesStart === undefined || batchesEnd === undefined) return result;
  return { ...result, batch: batchDelta(await batchesStart, await batchesEnd, options.model) };
}
