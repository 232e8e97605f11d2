/**
 * Runs one cell: a load-generator child against one server, sampling the server's CPU (and, for
 * Stratum, the batch sizes it formed) exactly at the measurement window the generator announces.
 */
import type { CellResult, Target } from './bench-results.ts';
import type { LoadEvent, LoadResult } from './load/load-result.ts';
import type { ProcessGroup } from './process/process-group.ts';
import { type CpuSnapshot, cpuBetween, cpuSnapshot } from './process/proc-stats.ts';
import { batchDelta, type BatchSnapshot, scrapeBatches } from './stratum/server-metrics.ts';
import type { BenchModel, ModelRequests, Protocol } from './workload.ts';

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
}

/** Builds the generator's command line. */
function loadCommand(options: RunCellOptions): { script: string; args: string[] } {
  const { server, model, protocol, concurrency, requests } = options;
  const timing = ['--concurrency', String(concurrency), '--warmup-ms', String(options.warmupMs), '--duration-ms', String(options.durationMs)];
  if (protocol === 'grpc') {
    if (server.grpcPort === undefined) throw new Error(`${server.target} has no gRPC port`);
    return { script: 'bench/load/grpc-load.ts', args: ['--port', String(server.grpcPort), '--body', requests.grpc.path, ...timing] };
  }
  const file = requests[protocol];
  return {
    script: 'bench/load/rest-load.ts',
    args: [
      '--port',
      String(server.httpPort),
      '--path',
      `/v2/models/${model}/infer`,
      '--body',
      file.path,
      ...(file.headerLength === undefined ? [] : ['--header-length', String(file.headerLength)]),
      ...timing,
    ],
  };
}

/** Runs the cell. */
export async function runCell(options: RunCellOptions): Promise<CellResult> {
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
  if (cpuStart === undefined || cpuEnd === undefined) throw new Error(`${script} never announced its measurement window`);
  const result: CellResult = {
    target: server.target,
    model: options.model,
    protocol: options.protocol,
    concurrency: options.concurrency,
    load,
    serverCpu: cpuBetween(cpuStart, cpuEnd),
  };
  if (batchesStart === undefined || batchesEnd === undefined) return result;
  return { ...result, batch: batchDelta(await batchesStart, await batchesEnd, options.model) };
}
