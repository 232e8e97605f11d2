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
  /**
   * Machine-wide CPU over the window not used by the server or the load generator (% of one
   * core): other processes on the box. High values mean the cell was disturbed.
   */
  readonly foreignCpuPercent: number;
  /** Measurements discarded because foreign CPU exceeded the limit before this one was kept. */
  readonly retries: number;
  /** When the cell was measured several times (concurrency 1): every run's p50 (ms); the median run is kept. */
  readonly p50Runs?: readonly number[];
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
  /** Every cell of every round. */
  readonly cells: readonly CellResult[];
  /** Per model at concurrency 64: mean throughput and mean batch over the rounds. */
  readonly at64: Readonly<Record<string, { readonly throughput: number; readonly meanBatch: number }>>;
  /** Geometric mean over models of the concurrency-64 throughputs. */
  readonly score: number;
  /** Mean over the rounds of the concurrency-1 p50 (ms). */
  readonly c1p50: number;
  readonly eligible: boolean;
}

/** The load/unload memory check. */
export interface MemoryResult {
  readonly model: BenchModel;
  readonly cycles: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** The main thread's V8 heap and external memory before and after (the rest of RSS is workers and native). */
  readonly heapBefore: { readonly heapTotal: number; readonly external: number };
  readonly heapAfter: { readonly heapTotal: number; readonly external: number };
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
  /** Git commit of the code under test (`+dirty` with uncommitted changes in src/). */
  readonly revision: string;
  /** Machine-wide busy % (of all cores) measured for 1 s before the run: other load on the box. */
  readonly backgroundCpuPercent: number;
}

/** Everything a run measured. */
export interface BenchRun {
  readonly machine: MachineInfo;
  readonly command: string;
  readonly timing: { readonly warmupMs: number; readonly durationMs: number; readonly c1Repeats: number };
  readonly settings: StratumSettings;
  readonly naiveIntraOpThreads: number;
  readonly sweep: readonly SweepRow[];
  readonly sweepRounds: number;
  readonly cells: readonly CellResult[];
  readonly ceilings: readonly CeilingEntry[];
  /** Raw batch-1 `session.run` mean latency per model (ms), one thread, the server's intra-op threads. */
  readonly batch1LatencyMs: Readonly<Partial<Record<BenchModel, number>>>;
  readonly memory?: MemoryResult;
  readonly elapsedSeconds: number;
}
