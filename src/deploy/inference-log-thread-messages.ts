/** Messages between the inference log's writer and its thread (`inference-log-thread.ts`). */
import type { PruneOptions } from '../store/inference-log-store.ts';
import type { SinkWrite } from './inference-log-sink.ts';
import type { PackedLogBatch } from './log-batch-packing.ts';

/** What the thread opens: the database the log is in. */
export interface LogThreadData {
  readonly url: string;
  readonly cwd?: string;
}

export type LogThreadRequest =
  | { readonly id: number; readonly type: 'write'; readonly batch: PackedLogBatch }
  | { readonly id: number; readonly type: 'prune'; readonly options: PruneOptions };

export type LogThreadReply =
  | ({
      readonly id: number;
      readonly ok: true;
      readonly type: 'write';
    } & SinkWrite)
  | { readonly id: number; readonly ok: true; readonly type: 'prune'; readonly removed: number }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** Asks the thread to finish what it has, close its connection and end. */
export const LOG_THREAD_CLOSE = 'close';
/** Posted once the thread's modules are loaded. */
export const LOG_THREAD_READY = 'ready';
