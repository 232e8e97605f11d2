/**
 * Where the chunks of a batch run. A chunk job and a coordinator helping with chunks hand the
 * chunk to an executor: in this thread over a runtime pool (`stratum worker`, `stratum batch`),
 * or in a background thread of low CPU priority (`background-chunk-executor.ts`, what `stratum
 * serve` uses so that a batch never takes the cores from online inference).
 */
import type { Registry } from '../../registry/registry.ts';
import type { RuntimePool } from '../../runtime/runtime-pool.ts';
import { type BatchPlan, planBatch, type PlannedChunk } from './batch-plan.ts';
import type { BatchSpec } from './batch-spec.ts';
import type { OutputColumn } from './output-columns.ts';
import { type ChunkResult, runChunk } from './run-chunk.ts';
import { createSessionCache } from './session-cache.ts';

/** A chunk to run. */
export interface ChunkRun {
  readonly spec: BatchSpec;
  readonly plan: BatchPlan;
  readonly chunk: PlannedChunk;
  /** Stops the chunk; it leaves no partial output. */
  readonly signal: AbortSignal;
}

/** Runs chunks; `close()` releases the models they loaded. */
export interface ChunkExecutor {
  /** Plans the batch (or finds its plan on disk): the input is scanned for chunk boundaries here. */
  plan(batch: { readonly spec: BatchSpec; readonly signal: AbortSignal }): Promise<BatchPlan>;
  /**
   * Loads the batch's model (kept for its chunks) and plans its output columns: a mapping that
   * does not fit fails here, once, rather than in every chunk.
   */
  columns(batch: Pick<ChunkRun, 'spec' | 'plan'>): Promise<readonly OutputColumn[]>;
  /** Runs the chunk unless its part exists; rejects with the signal's reason once it aborted. */
  run(run: ChunkRun): Promise<ChunkResult>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link inProcessChunkExecutor}. */
export interface InProcessChunkExecutorOptions {
  /** Where the models run. */
  readonly runtime: RuntimePool;
  /** Needed for registry models. */
  readonly registry?: Registry | undefined;
}

/** Runs chunks in this thread, their models in `runtime`, each model loaded once for many chunks. */
export function inProcessChunkExecutor(options: InProcessChunkExecutorOptions): ChunkExecutor {
  const cache = createSessionCache(options);
  return {
    async plan({ spec, signal }) {
      return (await planBatch({ spec, registry: options.registry, signal })).plan;
    },
    async columns({ spec, plan }) {
      const borrowed = await cache.borrow({ spec, plan });
      borrowed.release();
      return borrowed.session.outputs.columns;
    },
    async run({ spec, plan, chunk, signal }) {
      const borrowed = await cache.borrow({ spec, plan });
      try {
        return await runChunk({ spec, plan, chunk, session: borrowed.session, signal });
      } finally {
        borrowed.release();
      }
    },
    close: () => cache.close(),
  };
}
