/**
 * Gets training data into the layout the linear objective sums over, and the threads that sum it
 * started: mostly-zero features (hashed text, one-hot) become compressed sparse rows in one pass
 * that also checks finiteness, and the worker threads (when there are any) read those rows in
 * place from shared memory. Threads asked for explicitly start before the pass, into a shared home
 * laid out in advance, so their start-up (≈ 0.1 s compiled, more under tsx) overlaps the pass over
 * the matrix instead of following it.
 */
import { availableParallelism } from 'node:os';
import { checkFeatures } from '../common/check-training-inputs.ts';
import type { LinearData, LinearShape } from './linear-objective.ts';
import type { LinearParams } from './linear-params.ts';
import { linearFeatureHome, startLinearThreads, type LinearShards } from './linear-worker-shards.ts';
import { scanToSparseRows, sparseIfWorthwhile } from './sparse-rows.ts';

/**
 * Feature entries (non-zeros for CSR data, else rows × F, times outputs) from which L-BFGS starts
 * worker threads by default. Spam (3.4M entries, ~8 ms per evaluation on one thread) measured
 * slower on 2 threads than on 1 on the shared 2-core benchmark machine (a worker's start: ≈ 0.1 s
 * compiled, ≈ 0.4 s of CPU under tsx; its first blocks on unoptimised code; docs/BENCHMARKS.md),
 * so the default keeps one thread until an evaluation costs several times more.
 */
const AUTO_WORKERS_ENTRIES = 16_000_000;
/** Most threads the default takes: the objective has at most 8 blocks to share. */
const AUTO_WORKERS_MAX = 4;

/**
 * The default `workers`: 1 for Adam and SGD (one hand-off per mini-batch rarely pays) and for
 * small data; for L-BFGS on at least {@link AUTO_WORKERS_ENTRIES} entries, the cores, at most
 * {@link AUTO_WORKERS_MAX}.
 */
export function autoLinearWorkers(args: {
  optimizer: LinearParams['optimizer'];
  entries: number;
  cores: number;
}): number {
  if (args.optimizer !== 'lbfgs' || args.entries < AUTO_WORKERS_ENTRIES) return 1;
  return Math.max(1, Math.min(AUTO_WORKERS_MAX, args.cores));
}

/** What {@link prepareLinearData} returns. */
export interface PreparedLinearData {
  /** The training rows, with their CSR copy when they are mostly zeros. */
  readonly train: LinearData;
  /** The validation rows, likewise (following their own density). */
  readonly validation: LinearData | undefined;
  /** The threads summing the training objective, when more than one; close them after training. */
  readonly shards: LinearShards | undefined;
}

/**
 * Scans the training features (throwing BAD_REQUEST naming a non-finite value), builds the CSR
 * copies that pay, and starts the worker threads: `workers` of them, or {@link autoLinearWorkers}'
 * choice when it is undefined.
 */
export function prepareLinearData(args: {
  shape: LinearShape;
  train: LinearData;
  validation: LinearData | undefined;
  optimizer: LinearParams['optimizer'];
  workers: number | undefined;
}): PreparedLinearData {
  const { shape, train, optimizer } = args;
  const cores = availableParallelism();
  const mayShare = args.workers === undefined ? optimizer === 'lbfgs' && cores > 1 : args.workers > 1;
  const home = mayShare ? linearFeatureHome({ rows: train.rows, numFeatures: shape.numFeatures }) : undefined;
  const start = (workers: number) =>
    startLinearThreads({ shape, labels: train.labels, rows: train.rows, workers, ...(home !== undefined && { home }) });
  const early = Math.min(args.workers ?? 1, train.rows);
  let threads = early > 1 ? start(early) : undefined;
  try {
    const scanned = scanToSparseRows({
      features: train.features,
      numFeatures: shape.numFeatures,
      ...(home !== undefined && { into: home.sparse }),
    });
    if (!scanned.finite) checkFeatures({ name: 'features', features: train.features, numFeatures: shape.numFeatures });
    const data: LinearData = scanned.sparse === undefined ? train : { ...train, sparse: scanned.sparse };
    const entries = (scanned.sparse === undefined ? train.features.length : scanned.nonzeros) * shape.numOutputs;
    const chosen = args.workers ?? autoLinearWorkers({ optimizer, entries, cores });
    threads ??= Math.min(chosen, train.rows) > 1 ? start(Math.min(chosen, train.rows)) : undefined;
    const validation = args.validation;
    return {
      train: data,
      validation:
        validation === undefined
          ? undefined
          : withSparseRows(validation, { numFeatures: shape.numFeatures, shared: false }),
      shards: threads?.attach(data),
    };
  } catch (error) {
    void threads?.close();
    throw error;
  }
}

/** `data` with CSR rows when its features are mostly zeros (the threshold is in `sparse-rows.ts`). */
function withSparseRows(data: LinearData, options: { numFeatures: number; shared: boolean }): LinearData {
  const sparse = sparseIfWorthwhile({ features: data.features, ...options });
  return sparse === undefined ? data : { ...data, sparse };
}
