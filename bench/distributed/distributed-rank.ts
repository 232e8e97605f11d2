/**
 * One process of the distributed-training benchmark: generates the synthetic table (every rank
 * the same one, from the seed), then trains on it alone (`worldSize` 1, `threads` 1 or 2) or as one
 * rank of a Redis group, and prints one JSON line: training time, bytes exchanged, operations.
 */
import process from 'node:process';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { startSyncCollective } from '../../src/train/parallel/sync-collective.ts';

/** The argument of this script (JSON). */
export interface DistributedRankArgs {
  readonly numRows: number;
  readonly numFeatures: number;
  readonly numTrees: number;
  readonly maxDepth: number;
  /** Worker threads of a single-process run. */
  readonly threads: number;
  readonly worldSize: number;
  readonly rank: number;
  readonly group: string;
  readonly url: string;
  /** Instead of training, this many allreduces of `doubles` values (the exchange alone). */
  readonly exchangeOnly?: { readonly operations: number; readonly doubles: number };
}

const args = JSON.parse(process.argv[2] ?? '{}') as DistributedRankArgs;
const { numRows, numFeatures } = args;
const random = mulberry32(12345);
const features = new Float32Array(numRows * numFeatures);
for (let i = 0; i < features.length; i++) features[i] = random() * 2 - 1;
const labels = new Float32Array(numRows);
for (let i = 0; i < numRows; i++) {
  const x = (j: number): number => features[i * numFeatures + j] as number;
  labels[i] = Math.sin(3 * x(0)) + x(1) * x(2) - 0.5 * x(3) + 0.3 * (random() - 0.5) > 0 ? 1 : 0;
}
const collective =
  args.worldSize > 1
    ? startSyncCollective({ url: args.url, group: args.group, rank: args.rank, worldSize: args.worldSize })
    : undefined;
try {
  // Every rank is up before the clock starts, so start-up (tsx in a thread, Redis) is not timed.
  collective?.join();
  const blockedBefore = collective?.stats().blockedMs ?? 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  if (args.exchangeOnly !== undefined && collective !== undefined) {
    const values = new Float64Array(args.exchangeOnly.doubles).fill(args.rank);
    for (let i = 0; i < args.exchangeOnly.operations; i++) collective.allreduceSum(values);
  } else
    trainGbdt({
      features,
      numFeatures,
      labels,
      objective: 'binary',
      params: { numTrees: args.numTrees, maxDepth: args.maxDepth, seed: 1, workers: args.threads },
      ...(collective !== undefined && { collective }),
    });
  const trainMs = performance.now() - started;
  // Every thread of the process: the trainer, worker threads, the collective's thread.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const stats = collective === undefined ? undefined : { ...collective.stats(), blockedBefore };
  await collective?.close();
  process.stdout.write(`${JSON.stringify({ rank: args.rank, trainMs, cpuMs, stats })}\n`);
} catch (error) {
  await collective?.close(error);
  throw error;
}
