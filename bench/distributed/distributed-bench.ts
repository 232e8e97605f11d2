/**
 * `--only distributed`: GBDT training time on one process against two processes summing their
 * histograms through Redis (and two worker threads in one process, the same model), on a synthetic
 * table large enough that the exchange is amortised; the speed-up and the bytes exchanged per tree.
 * Configurations alternate within each round, so a change in the machine's load hits all of them.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Progress } from '../progress.ts';
import type { DistributedRankArgs } from './distributed-rank.ts';

const RANK_SCRIPT = fileURLToPath(new URL('./distributed-rank.ts', import.meta.url));

/** Options of {@link runDistributedBench}. */
export interface DistributedBenchOptions {
  readonly progress: Progress;
  readonly quick: boolean;
  /** @default redis://127.0.0.1:6379 */
  readonly url?: string;
}

interface RankOutput {
  readonly rank: number;
  readonly trainMs: number;
  /** CPU time of the whole process (every thread) while training. */
  readonly cpuMs: number;
  readonly stats?: {
    bytesSent: number;
    bytesReceived: number;
    messagesSent: number;
    operations: number;
    blockedMs: number;
    /** Blocked before the clock started (joining). */
    blockedBefore: number;
  };
}

/** One configuration's median training time over the rounds. */
export interface DistributedRow {
  readonly label: string;
  readonly processes: number;
  readonly threads: number;
  readonly trainMs: number[];
  /** Bytes every rank sent in all, per tree (0 in one process). */
  readonly bytesPerTree: number;
  /** Collective operations per tree (allreduces of a node's histogram, plus the loss). */
  readonly operationsPerTree: number;
  /** Per round: the CPU time of the busiest rank (ms). */
  readonly cpuMs: number[];
  /** Per round: the training time each rank spent blocked in the exchange, the largest of the ranks (ms). */
  readonly blockedMs: number[];
}

/** What the phase measured. */
export interface DistributedBenchResult {
  readonly numRows: number;
  readonly numFeatures: number;
  readonly numTrees: number;
  readonly maxDepth: number;
  readonly rows: DistributedRow[];
  /** The 2-process run's allreduces (count and mean size) alone, no training: ms per operation. */
  readonly exchangeOnlyMsPerOperation: number;
  /** Operations of that probe. */
  readonly exchangeOnlyOperations: number;
  /** Values (Float64) per operation of that probe. */
  readonly exchangeOnlyDoubles: number;
  /** 1-minute load average before and after the phase. */
  readonly load: [number, number];
}

function runRank(args: DistributedRankArgs): Promise<RankOutput> {
  const child = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`rank ${args.rank} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as RankOutput);
    });
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** Runs 1 process, 2 processes and 2 threads, alternating, `rounds` times. */
export async function runDistributedBench(options: DistributedBenchOptions): Promise<DistributedBenchResult> {
  const { progress, quick } = options;
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const shape = { numRows: quick ? 300_000 : 1_000_000, numFeatures: 10, numTrees: quick ? 10 : 30, maxDepth: 6 };
  const rounds = quick ? 1 : 3;
  const configs = [
    { label: '1 process, 1 thread', processes: 1, threads: 1 },
    { label: '2 processes (Redis)', processes: 2, threads: 1 },
    { label: '1 process, 2 threads', processes: 1, threads: 2 },
  ];
  const rows: DistributedRow[] = configs.map((c) => ({
    ...c,
    trainMs: [],
    bytesPerTree: 0,
    operationsPerTree: 0,
    cpuMs: [],
    blockedMs: [],
  }));
  const loadBefore = loadavg()[0] as number;
  for (let round = 0; round < rounds; round++) {
    for (const [i, config] of configs.entries()) {
      progress.log(`distributed: round ${round + 1}/${rounds}, ${config.label}`);
      const group = `bench-${randomUUID()}`;
      const outputs = await Promise.all(
        Array.from({ length: config.processes }, (_, rank) =>
          runRank({ ...shape, threads: config.threads, worldSize: config.processes, rank, group, url }),
        ),
      );
      const row = rows[i] as DistributedRow;
      // The run ends when its slowest rank does.
      row.trainMs.push(Math.max(...outputs.map((o) => o.trainMs)));
      row.cpuMs.push(Math.max(...outputs.map((o) => o.cpuMs)));
      if (config.processes > 1) {
        row.blockedMs.push(Math.max(...outputs.map((o) => (o.stats?.blockedMs ?? 0) - (o.stats?.blockedBefore ?? 0))));
      }
      const sent = outputs.reduce((sum, o) => sum + (o.stats?.bytesSent ?? 0), 0);
      rows[i] = {
        ...row,
        bytesPerTree: sent / shape.numTrees,
        operationsPerTree: (outputs[0]?.stats?.operations ?? 0) / shape.numTrees,
      };
    }
  }
  // The exchange alone: as many allreduces, of the same mean size, as the 2-process training did.
  const distributed = rows[1] as DistributedRow;
  const operations = Math.max(1, Math.round(distributed.operationsPerTree * shape.numTrees));
  const doubles = Math.max(1, Math.round(((distributed.bytesPerTree / 2) * shape.numTrees) / operations / 8));
  progress.log(`distributed: the exchange alone, ${operations} allreduces of ${doubles} values`);
  const group = `bench-${randomUUID()}`;
  const probe = await Promise.all(
    [0, 1].map((rank) =>
      runRank({ ...shape, threads: 1, worldSize: 2, rank, group, url, exchangeOnly: { operations, doubles } }),
    ),
  );
  const exchangeOnlyMsPerOperation = Math.max(...probe.map((o) => o.trainMs)) / operations;
  return {
    ...shape,
    rows,
    exchangeOnlyMsPerOperation,
    exchangeOnlyOperations: operations,
    exchangeOnlyDoubles: doubles,
    load: [loadBefore, loadavg()[0] as number],
  };
}

/** The phase's Markdown section. */
export function renderDistributedBench(result: DistributedBenchResult): string {
  const base = median(result.rows[0]?.trainMs ?? [1]);
  const kib = (bytes: number): string => (bytes === 0 ? '—' : `${(bytes / 1024).toFixed(0)} KiB`);
  return [
    '## GBDT across processes (histograms summed through Redis)',
    '',
    `Binary GBDT, ${result.numRows.toLocaleString('en-US')} rows × ${result.numFeatures} features, ${result.numTrees} trees of depth ${result.maxDepth}; training time only (every rank generates the table and joins first). Median of ${result.rows[0]?.trainMs.length ?? 0} rounds; configurations alternate within a round. Load average (1 min) ${result.load[0].toFixed(2)} before, ${result.load[1].toFixed(2)} after.`,
    '',
    '| configuration | training time (median) | runs (s) | speed-up vs 1 process | bytes sent per tree (all ranks) | collective operations per tree | blocked in the exchange (median, slowest rank) | CPU time of the busiest process (median) |',
    '|---|---|---|---|---|---|---|---|',
    ...result.rows.map((r) => {
      const t = median(r.trainMs);
      return `| ${r.label} | ${(t / 1000).toFixed(2)} s | ${r.trainMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} | ${(base / t).toFixed(2)}× | ${kib(r.bytesPerTree)} | ${r.operationsPerTree === 0 ? '—' : r.operationsPerTree.toFixed(1)} | ${r.blockedMs.length === 0 ? '—' : `${(median(r.blockedMs) / 1000).toFixed(2)} s`} | ${(median(r.cpuMs) / 1000).toFixed(2)} s |`;
    }),
    '',
    `The exchange alone (2 processes, the training's ${result.exchangeOnlyOperations} allreduces at their mean size, ${result.exchangeOnlyDoubles.toLocaleString('en-US')} Float64 values, no training): ${result.exchangeOnlyMsPerOperation.toFixed(2)} ms per operation, ${((result.exchangeOnlyMsPerOperation * result.exchangeOnlyOperations) / 1000).toFixed(2)} s in all.`,
    '',
  ].join('\n');
}
