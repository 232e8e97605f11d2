/**
 * The messages between a background chunk executor (`background-chunk-executor.ts`) and its
 * thread (`chunk-thread.ts`).
 */
import type { ThreadStores } from '../thread-job.ts';
import type { BatchPlan, PlannedChunk } from './batch-plan.ts';
import type { BatchSpec } from './batch-spec.ts';
import type { OutputColumn } from './output-columns.ts';
import type { ChunkResult } from './run-chunk.ts';

/** What the thread posts once its modules are loaded and its priority is lowered. */
export const CHUNK_THREAD_READY = 'stratum-chunk-thread-ready';

/** The thread's `workerData`. */
export interface ChunkThreadData {
  /** The nice value the thread (and every thread it starts) runs at. */
  readonly niceness: number;
  /** Session threads of the thread's runtime pool. */
  readonly workers: number;
  /** Where registry models are read from; without it only `.onnx` file models run. */
  readonly stores?: ThreadStores | undefined;
  readonly logLevel: string;
}

/** A request to the thread. */
export type ChunkThreadRequest =
  | {
      readonly id: number;
      readonly op: 'run';
      readonly spec: BatchSpec;
      readonly plan: BatchPlan;
      readonly chunk: PlannedChunk;
    }
  | { readonly id: number; readonly op: 'plan'; readonly spec: BatchSpec }
  | { readonly id: number; readonly op: 'columns'; readonly spec: BatchSpec; readonly plan: BatchPlan }
  /** Stops run `run` (its reply then says how it ended); answered at once. */
  | { readonly id: number; readonly op: 'abort'; readonly run: number };

/** Ends the thread once what it runs has ended (the worker pool's shutdown message). */
export const CHUNK_THREAD_CLOSE = Object.freeze({ op: 'close' });

/** A reply. */
export type ChunkThreadReply =
  | { readonly id: number; readonly ok: true; readonly result?: ChunkResult | BatchPlan | readonly OutputColumn[] }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly details?: unknown;
    };
