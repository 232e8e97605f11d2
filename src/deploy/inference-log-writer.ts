/**
 * Writes the inference log without ever holding up a request: a record is packed into its batch
 * as it is offered (`log-batch-packing.ts`: its tensors' bytes and its fields leave the
 * JavaScript heap at once), at most `bufferSize` records wait (past it a record is dropped and
 * counted), and batches are written — a flush every `flushIntervalMs`, or as soon as a batch is
 * full — one at a time, each one transaction of multi-row INSERTs. Unpacking, redaction, encoding
 * and the INSERTs are the sink's: in a server, a worker thread (`inference-log-thread-sink.ts`),
 * off the event loop. A timer applies the retention (age, then row cap).
 */
import type { InferenceLogConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { InferenceLogMetrics } from '../monitor/inference-log-metrics.ts';
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { InferenceLogStore } from '../store/inference-log-store.ts';
import { type InferenceLogSink, storeLogSink } from './inference-log-sink.ts';
import { type LogBatchBuffers, LogBatchBuilder, type LogRecordData, type PackedLogBatch } from './log-batch-packing.ts';

const DAY_MS = 86_400_000;

/** A record as the request path hands it over: tensors as they were, converted by the sink. */
export interface PendingLogRecord extends LogRecordData {
  /** The request's span, when traced: the write that stores the record is recorded under it. */
  readonly trace?: RequestTrace;
}

/** Options of {@link createInferenceLogWriter}. */
export interface InferenceLogWriterOptions {
  /**
   * Where batches go: a server gives the thread sink (`openThreadLogSink`), so conversion and
   * INSERTs run off its event loop. The writer does not close it. @default {@link storeLogSink} of `store`
   */
  readonly sink?: InferenceLogSink;
  /** A store written on this thread, when no `sink` is given. */
  readonly store?: Pick<InferenceLogStore, 'append' | 'prune'>;
  readonly settings: Pick<
    InferenceLogConfig,
    'bufferSize' | 'batchSize' | 'flushIntervalMs' | 'retentionDays' | 'maxRows' | 'pruneIntervalMs'
  >;
  readonly metrics: InferenceLogMetrics;
  readonly logger: Logger;
  /** The wall clock retention is measured with. @default Date.now */
  readonly now?: () => number;
}

/** The writer. */
export interface InferenceLogWriter {
  /**
   * Packs a record into the batch being filled; false when the buffer is full or the writer closed
   * (counted as dropped), or when the record cannot be packed (counted as failed).
   */
  offer(record: PendingLogRecord): boolean;
  /** Resolves once every record buffered before the call is written (or failed). */
  flush(): Promise<void>;
  /** Applies the retention now; resolves with the records removed. */
  prune(): Promise<number>;
  /** Records waiting. */
  readonly pending: number;
  /** Stops the timers and writes what is buffered. Idempotent. */
  close(): Promise<void>;
}

/** A batch being filled, and the spans of its traced records (they stay on this thread). */
interface OpenBatch {
  readonly builder: LogBatchBuilder;
  readonly traces: RequestTrace[];
}

/** A batch ready to write. */
interface SealedBatch {
  readonly batch: PackedLogBatch;
  readonly traces: readonly RequestTrace[];
}

function sinkOf(options: Pick<InferenceLogWriterOptions, 'sink' | 'store'>): InferenceLogSink {
  if (options.sink !== undefined) return options.sink;
  if (options.store !== undefined) return storeLogSink(options.store);
  throw new TypeError('createInferenceLogWriter: give a sink or a store');
}

/** Creates the writer and starts its flush and retention timers. */
export function createInferenceLogWriter(options: InferenceLogWriterOptions): InferenceLogWriter {
  const { settings, metrics, logger } = options;
  const sink = sinkOf(options);
  const now = options.now ?? Date.now;
  let open: OpenBatch | undefined;
  let sealed: SealedBatch[] = [];
  // Records offered and not yet handed to the sink.
  let pending = 0;
  // Buffers a written batch gave back: the next batch is packed into them.
  let spare: LogBatchBuffers | undefined;
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;
  let closed = false;
  let closing: Promise<void> | undefined;

  function seal(): void {
    if (open === undefined) return;
    sealed.push({ batch: open.builder.seal(), traces: open.traces });
    open = undefined;
  }

  async function writeBatch({ batch, traces }: SealedBatch): Promise<void> {
    try {
      const { written, startedAt, endedAt, buffers } = await sink.write(batch);
      spare ??= buffers;
      // The sink's clock is epoch ms (a thread has its own performance time origin).
      const start = startedAt - performance.timeOrigin;
      const end = endedAt - performance.timeOrigin;
      for (const trace of traces) {
        trace.record('stratum.inference_log.write', {
          start,
          end,
          attributes: { 'db.operation.name': 'INSERT', 'stratum.log.records': batch.count },
        });
      }
      // Duplicates (a request id logged twice) are not written and not failures either.
      metrics.flushed({ written, failed: 0 });
    } catch (error) {
      metrics.flushed({ written: 0, failed: batch.count });
      logger.warn({ records: batch.count, reason: (error as Error).message }, 'could not write the inference log');
    }
  }

  /** Writes everything buffered now, one batch after another, after any flush already running. */
  function flush(): Promise<void> {
    chain = chain.then(async () => {
      seal();
      const batches = sealed;
      sealed = [];
      for (const batch of batches) {
        pending -= batch.batch.count;
        metrics.pending(pending);
        await writeBatch(batch);
      }
    });
    return chain;
  }

  const flushTimer = setInterval(() => void flush(), settings.flushIntervalMs);
  flushTimer.unref();

  async function prune(): Promise<number> {
    const before = settings.retentionDays > 0 ? now() - settings.retentionDays * DAY_MS : undefined;
    const maxRows = settings.maxRows > 0 ? settings.maxRows : undefined;
    if (before === undefined && maxRows === undefined) return 0;
    return sink.prune({
      ...(before !== undefined && { before }),
      ...(maxRows !== undefined && { maxRows }),
    });
  }
  const pruneTimer = setInterval(() => {
    prune().catch((error: unknown) =>
      logger.warn({ reason: (error as Error).message }, 'could not prune the inference log'),
    );
  }, settings.pruneIntervalMs);
  pruneTimer.unref();

  return {
    offer(record) {
      if (closed || pending >= settings.bufferSize) {
        metrics.dropped();
        return false;
      }
      open ??= { builder: new LogBatchBuilder(spare), traces: [] };
      spare = undefined;
      try {
        open.builder.append(record);
      } catch (error) {
        // A record that cannot be packed fails alone (the builder is left as it was); the request
        // it came from has been answered and is not held up.
        metrics.flushed({ written: 0, failed: 1 });
        logger.warn({ requestId: record.requestId, reason: (error as Error).message }, 'could not log a request');
        return false;
      }
      if (record.trace !== undefined) open.traces.push(record.trace);
      pending++;
      metrics.buffered();
      if (open.builder.count >= settings.batchSize) {
        seal();
        if (!scheduled) {
          // A full batch is written soon, but after the current request's reply is on its way.
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            void flush();
          });
        }
      }
      return true;
    },
    flush,
    prune,
    get pending() {
      return pending;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(flushTimer);
        clearInterval(pruneTimer);
        await flush();
      })();
      return closing;
    },
  };
}
