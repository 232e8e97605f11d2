/**
 * Batch inference in this process: plan (or resume) the batch, run its unfinished chunks a few
 * at a time on the runtime pool, then assemble the output. The library entry point and what
 * `stratum batch` runs without a server; the queue's `batch-infer` job runs the same steps with
 * the chunks spread over workers (`batch-handlers.ts`).
 */
import { readFile, rm } from 'node:fs/promises';
import { StratumError } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import type { RuntimePool } from '../../runtime/runtime-pool.ts';
import { assembleOutput } from './assemble-output.ts';
import { type BatchPlan, planBatch, type PlannedChunk } from './batch-plan.ts';
import { loadPlannedModel } from './batch-model.ts';
import { openBatchSession } from './batch-session.ts';
import { type BatchSpec, errorsPath, parseBatchSpec, partsDir } from './batch-spec.ts';
import { errorsPartPath, isChunkDone, runChunk } from './run-chunk.ts';

/** Where a batch is. */
export interface BatchProgress {
  readonly chunks: number;
  readonly chunksDone: number;
  readonly rows: number;
  readonly rowsDone: number;
}

/** What a finished batch did. */
export interface BatchResult {
  readonly output: string;
  /** Rows in the input. */
  readonly rows: number;
  /** Rows written to the output. */
  readonly written: number;
  /** Rows skipped as bad (listed in `errors`). */
  readonly badRows: number;
  /** The errors file, when bad rows are skipped. */
  readonly errors?: string;
  readonly chunks: number;
  /** Chunks found done from an earlier run. */
  readonly resumedChunks: number;
  /** The model that ran: `name:version` or the file. */
  readonly model: string;
}

/** Options of {@link runBatch}. */
export interface RunBatchOptions {
  /** The batch spec (parsed here). */
  readonly spec: unknown;
  readonly runtime: RuntimePool;
  /** Needed when the spec names a registry model. */
  readonly registry?: Registry;
  readonly signal?: AbortSignal | undefined;
  /** Chunks run at once. @default twice the runtime's worker count (one batch queued per worker while another runs) */
  readonly concurrency?: number;
  readonly onProgress?: (progress: BatchProgress) => void;
  /**
   * What an abort leaves behind: `discard` removes the parts too (a cancel leaves nothing), `keep`
   * keeps the finished chunks so that running the batch again resumes (an interrupted CLI).
   * @default 'discard'
   */
  readonly onAbort?: 'discard' | 'keep';
}

/**
 * Runs a batch to its end. Resumes at the first unfinished chunk when a part folder of the same
 * batch exists. Aborting stops within a batch of rows and leaves no output.
 *
 * @example
 * ```ts
 * const result = await runBatch({ spec: { model: 'iris@production', input: { path: 'in.csv' }, output: 'out.parquet' }, runtime, registry });
 * ```
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchResult> {
  const spec = parseBatchSpec(options.spec);
  const { signal } = options;
  try {
    const { plan } = await planBatch({ spec, registry: options.registry, signal });
    signal?.throwIfAborted();
    const model = await loadPlannedModel({ planned: plan.model, registry: options.registry });
    const session = await openBatchSession({ runtime: options.runtime, model, spec, source: plan.source });
    try {
      const resumedChunks = await runChunks({ ...options, spec, plan, session, signal });
      return await finishBatch({ spec, plan, columns: session.outputs.columns, resumedChunks });
    } finally {
      await session.close();
    }
  } catch (error) {
    if (signal?.aborted === true && (options.onAbort ?? 'discard') === 'discard') {
      await rm(partsDir(spec), { recursive: true, force: true });
    }
    throw signal?.aborted === true ? (signal.reason ?? error) : error;
  }
}

async function runChunks(
  options: RunBatchOptions & {
    spec: BatchSpec;
    plan: BatchPlan;
    session: Awaited<ReturnType<typeof openBatchSession>>;
    signal: AbortSignal | undefined;
  },
): Promise<number> {
  const { spec, plan, session, signal } = options;
  const todo: PlannedChunk[] = [];
  let rowsDone = 0;
  let chunksDone = 0;
  for (const chunk of plan.chunks) {
    if (await isChunkDone({ spec, index: chunk.index })) {
      chunksDone++;
      rowsDone += chunk.rows;
    } else todo.push(chunk);
  }
  const resumed = chunksDone;
  const report = (): void =>
    options.onProgress?.({ chunks: plan.chunks.length, chunksDone, rows: plan.rows, rowsDone });
  report();
  // A failing chunk stops the others: they see the abort between batches.
  const failure = new AbortController();
  const combined = signal === undefined ? failure.signal : AbortSignal.any([signal, failure.signal]);
  let next = 0;
  let firstError: unknown;
  const lane = async (): Promise<void> => {
    while (next < todo.length && !combined.aborted) {
      const chunk = todo[next++];
      if (chunk === undefined) return;
      try {
        await runChunk({
          spec,
          plan,
          chunk,
          session,
          signal: combined,
          onRows: (rows) => {
            rowsDone += rows;
            report();
          },
        });
        chunksDone++;
        report();
      } catch (error) {
        firstError ??= error;
        failure.abort(error);
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? options.runtime.size * 2, todo.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  signal?.throwIfAborted();
  if (firstError !== undefined) throw firstError;
  return resumed;
}

/** Counts the skipped rows and assembles the output. */
export async function finishBatch(options: {
  spec: BatchSpec;
  plan: BatchPlan;
  columns: Parameters<typeof assembleOutput>[0]['columns'];
  resumedChunks: number;
}): Promise<BatchResult> {
  const { spec, plan } = options;
  let badRows = 0;
  for (const chunk of plan.chunks) {
    const text = await readFile(errorsPartPath({ spec, index: chunk.index }), 'utf8').catch(() => '');
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) badRows++;
  }
  if (badRows > 0 && spec.onBadRow === 'fail') {
    throw new StratumError('INTERNAL', 'bad rows were recorded under onBadRow: fail');
  }
  await assembleOutput({ spec, plan, columns: options.columns });
  return {
    output: spec.output,
    rows: plan.rows,
    written: plan.rows - badRows,
    badRows,
    ...(spec.onBadRow === 'skip' && { errors: errorsPath(spec) }),
    chunks: plan.chunks.length,
    resumedChunks: options.resumedChunks,
    model: plan.modelLabel,
  };
}
