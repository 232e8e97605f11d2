/**
 * Where the inference log's writer sends its batches, packed (`log-batch-packing.ts`): a sink
 * unpacks and converts the records (redaction; numeric tensors stay typed arrays, which the store
 * writes as bytes) and writes them. {@link storeLogSink} does that on the calling thread, on a
 * store it is given; `openThreadLogSink` (`inference-log-thread-sink.ts`)
 * does it in a worker thread with a connection of its own, so a serving replica's event loop never
 * runs the encoding or SQLite's synchronous INSERTs.
 */
import type { InferenceLogStore, NewInferenceLogRecord, PruneOptions } from '../store/inference-log-store.ts';
import {
  type LogBatchBuffers,
  type LogRecordData,
  MAX_REUSED_BYTES,
  type PackedLogBatch,
  unpackLogBatch,
} from './log-batch-packing.ts';
import { loggedTensors } from './logged-tensor.ts';

/** What a write did: records written (duplicates are not), and when it ran (epoch ms, for spans). */
export interface SinkWrite {
  readonly written: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The batch's buffers, free again, for the next batch to be packed into (absent when too large to keep). */
  readonly buffers?: LogBatchBuffers;
}

/** A place batches of the inference log go. */
export interface InferenceLogSink {
  /** Unpacks, converts and writes one batch, in one transaction. */
  write(batch: PackedLogBatch): Promise<SinkWrite>;
  /** Applies a retention; resolves with the records removed. */
  prune(options: PruneOptions): Promise<number>;
  /** Releases what the sink holds (its thread); a store given to it stays open. Idempotent. */
  close(): Promise<void>;
}

/** A record as the store writes it: inputs redacted. */
export function toNewRecord(record: LogRecordData): NewInferenceLogRecord {
  return {
    requestId: record.requestId,
    deployment: record.deployment,
    model: record.model,
    version: record.version,
    at: record.at,
    latencyMs: record.latencyMs,
    inputs: loggedTensors(record.inputs, record.redact),
    outputs: loggedTensors(record.outputs),
  };
}

/** Epoch milliseconds with sub-millisecond precision, comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Converts and writes on this thread, on `store` (which the caller closes). */
export function storeLogSink(store: Pick<InferenceLogStore, 'append' | 'prune'>): InferenceLogSink {
  return {
    async write(batch) {
      const startedAt = epochNow();
      const written = await store.append(unpackLogBatch(batch).map(toNewRecord));
      const endedAt = epochNow();
      // The rows hold copies of the tensors (encoded before the INSERTs): the buffers are free.
      const { bytes, text } = batch;
      const keep = bytes.byteLength <= MAX_REUSED_BYTES && text.byteLength <= MAX_REUSED_BYTES;
      return { written, startedAt, endedAt, ...(keep && { buffers: { bytes, text } }) };
    },
    prune: (options) => store.prune(options),
    close: async () => undefined,
  };
}
