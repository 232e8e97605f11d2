/**
 * The data a bench run produces, shared by the phases that measure it and `report.ts` that
 * formats it.
 */
import type { LoadResult } from './load/load-result.ts';
import type { CpuUse } from './process/proc-stats.ts';
import type { StratumSettings } from './stratum/stratum-process.ts';
import type { BatchDelta } from './stratum/server-metrics.ts';
import type { BenchModel, Protocol } from './workload.ts';

/** Which server a cell loaded. */
export type Target = 'stratum' | 'transport' | 'naive';

/** One measured cell: a server, model, protocol and concurrency. */
export interface CellResult {
  readonly target: Target;
  readonly model: BenchModel;
  readonly protocol: Protocol;
  readonly concurrency: number;
  readonly load: LoadResult;
  /** CPU of the server process over the measurement window. */
  readonly serverCpu: CpuUse;
  /** Batches Stratum formed over the window (Stratum only). */
  readonly batch?: BatchDelta;
}

/** Compute ceiling of one model at one batch size. */
export interface CeilingEntry {
  readonly model: BenchModel;
  readonly batch: number;
  readonly rowsPerSecond: number;
  readonly meanRunMs: number;
}

/** One configuration of the sweep. */
export interface SweepRow {
  readonly settings: StratumSettings;
  readonly cells: readonly CellResult[];
  /** Geometric mean of the concurrency-64 throughputs. */
  readonly score: number;
  /** mlp binary p50 at concurrency 1 (ms). */
  readonly c1p50: number;
  readonly eligible: boolean;
}

/** The load/unload memory check. */
export interface MemoryResult {
  readonly model: BenchModel;
  readonly cycles: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** RSS after every quarter of the cycles. */
  readonly trace: readonly { readonly cycle: number; readonly rss: number }[];
  readonly seconds: number;
}

/** Machine facts printed with the tables. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly ort: string;
  readonly os: string;
  /** Machine-wide busy % (of all cores) measured for 1 s before the run: other load on the box. */
  readonly backgroundCpuPercent: number;
}

/** Everything a run measured. */
export interface BenchRun {
  readonly machine: MachineInfo;
  readonly command: string;
  readonly timing: { readonly warmupMs: number; readonly durationMs: number };
  readonly settings: StratumSettings;
  readonly naiveIntraOpThreads: number;
  readonly sweep: readonly SweepRow[];
  readonly cells: readonly CellResult[];
  readonly ceilings: readonly CeilingEntry[];
  /** Raw batch-1 `session.run` mean latency per model (ms), one thread, the server's intra-op threads. */
  readonly batch1LatencyMs: Readonly<Partial<Record<BenchModel, number>>>;
  readonly memory?: MemoryResult;
  readonly elapsedSeconds: number;
}
