/**
 * The data a bench run produces, shared by the phases that measure it and `report.ts` that
 * formats it.
 */
import type { LatencySummary } from './load/latency-recorder.ts';
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
  /** Per model, mean over the rounds of the concurrency-1 p50 (ms). */
  readonly c1p50: Readonly<Record<string, number>>;
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

/** How a rollout swaps versions. */
export type SwapStrategy = 'blue-green' | 'canary';

/** One version swap under load. */
export interface SwapRecord {
  /** 1-based. */
  readonly index: number;
  readonly strategy: SwapStrategy;
  readonly from: number;
  readonly to: number;
  /** `switched` (blue-green) or the canary's end; `timeout` when the replica did not converge. */
  readonly outcome: 'switched' | 'promoted' | 'rolled_back' | 'aborted' | 'timeout';
  /** Why a canary was rolled back (from the deployment's state). */
  readonly reason?: string;
  /** Canary: the traffic % of the step it ended at. */
  readonly endedAtPercent?: number;
  /** Canary: this replica's window of its latest step, as the last status poll before the end saw it. */
  readonly lastWindow?: CanaryWindowSeen;
  /** From the rollout request to this replica serving the result (ms). */
  readonly convergeMs: number;
  /** Requests overlapping the swap's window (start → converged + tail). */
  readonly requests: number;
  /** Of those, not answered 200. */
  readonly failed: number;
  /** p99 / max of the 200s in the window (ms). */
  readonly p99: number;
  readonly max: number;
  /** p99 of the requests overlapping the time until the replica converged (loading, switching). */
  readonly p99UntilConverged: number;
  /** p99 of the requests overlapping the tail after it converged (the old version unloading). */
  readonly p99After: number;
}

/** What one version of a canary step answered, as the replica's status reports it. */
export interface CanarySideSeen {
  readonly requests: number;
  /** Server-side p99 (ms): queue + run, no HTTP. */
  readonly p99Ms: number | undefined;
}

/** A canary step's window on the replica. */
export interface CanaryWindowSeen {
  /** The canary's traffic % in that step. */
  readonly percent: number;
  readonly canary: CanarySideSeen;
  /** The stable version's requests: routed ones plus the compared copies. */
  readonly stable: CanarySideSeen;
}

/** The requests of some windows of the rollouts run. */
export interface RolloutWindow {
  readonly requests: number;
  /** Not answered 200 (HTTP error or failed connection). */
  readonly failed: number;
  /** Total length of the windows. */
  readonly seconds: number;
  /** 200s per second. */
  readonly throughput: number;
  /** Of the 200s. */
  readonly latency: LatencySummary;
  /** The server's CPU over the windows. */
  readonly cpu: CpuUse;
  /** Machine CPU used by other processes (% of one core). */
  readonly foreignCpuPercent: number;
  /** p99 of each 1 s slice of the windows (ms): how much p99 varies over windows as short as a swap. */
  readonly sliceP99: { readonly median: number; readonly max: number };
}

/** Failed requests of one status (0: the connection failed). */
export interface RolloutFailureKind {
  readonly status: number;
  readonly count: number;
}

/** The registry rollouts phase (issue 3). */
export interface RolloutResult {
  readonly concurrency: number;
  /** The canary policy of every canary swap. */
  readonly canary: {
    readonly steps: readonly number[];
    readonly stepSeconds: number;
    readonly minRequests: number;
    readonly compareRate: number;
  };
  /** A swap's window lasts until the replica converged plus this (ms). */
  readonly swapTailMs: number;
  /** Time waited for the machine to be idle before the run (ms). */
  readonly quietWaitMs: number;
  /** Requests inside the steady-state window. */
  readonly steady: RolloutWindow;
  /** Requests overlapping any swap window. */
  readonly during: RolloutWindow;
  readonly swaps: readonly SwapRecord[];
  /** Every request of the run (warm-up included). */
  readonly total: { readonly requests: number; readonly failed: number };
  readonly failures: readonly RolloutFailureKind[];
  /** The load generator's own summary (its `errorKinds` carry the failed responses' messages). */
  readonly load: LoadResult;
  /** Blue-green load/unload cycles on a fresh server. */
  readonly memory?: RolloutMemory;
}

/** The rollouts phase's memory check: the folder check's figures, plus later readings. */
export interface RolloutMemory extends MemoryResult {
  /** The main thread's V8 external memory (ArrayBuffers, model bytes) at each trace point. */
  readonly externalTrace: readonly number[];
  /** RSS and main external memory after a longer idle time, when V8 may have collected garbage. */
  readonly late: { readonly afterMs: number; readonly rss: number; readonly external: number };
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
  readonly rollouts?: RolloutResult;
  readonly elapsedSeconds: number;
}
