/**
 * Writes the inference log without ever holding up a request: records wait in a bounded buffer
 * (a full buffer drops the record and counts it) and are written in batches — a flush every
 * `flushIntervalMs`, or as soon as a batch is full — one batch at a time, each one transaction of
 * multi-row INSERTs. Encoding, redaction and the INSERTs are the sink's: in a server, a
 * worker thread (`inference-log-thread-sink.ts`), off the event loop. A timer applies the
 * retention (age, then row cap).
 */
import type { InferenceLogConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { InferenceLogMetrics } from '../monitor/inference-log-metrics.ts';
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { InferenceLogStore } from '../store/inference-log-store.ts';
import { type InferenceLogSink, type LogRecordData, storeLogSink } from './inference-log-sink.ts';

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
  /** Buffers a record; false (and counted as dropped) when the buffer is full or the writer closed. */
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

/** Strips what stays on this thread (the span) from a record before it goes to the sink. */
function dataOf(record: PendingLogRecord): LogRecordData {
  if (record.trace === undefined) return record;
  const { requestId, deployment, model, version, at, latencyMs, inputs, outputs, redact } = record;
  return { requestId, deployment, model, version, at, latencyMs, inputs, outputs, redact };
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
  let buffer: PendingLogRecord[] = [];
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;
  let closed = false;
  let closing: Promise<void> | undefined;

  async function writeBatch(batch: readonly PendingLogRecord[]): Promise<void> {
    try {
      const { written, startedAt, endedAt } = await sink.write(batch.map(dataOf));
      // The sink's clock is epoch ms (a thread has its own performance time origin).
      const start = startedAt - performance.timeOrigin;
      const end = endedAt - performance.timeOrigin;
      for (const record of batch) {
        record.trace?.record('stratum.inference_log.write', {
          start,
          end,
          attributes: { 'db.operation.name': 'INSERT', 'stratum.log.records': batch.length },
        });
      }
      // Duplicates (a request id logged twice) are not written and not failures either.
      metrics.flushed({ written, failed: 0 });
    } catch (error) {
      metrics.flushed({ written: 0, failed: batch.length });
      logger.warn({ records: batch.length, reason: (error as Error).message }, 'could not write the inference log');
    }
  }

  /** Writes everything buffered now, one batch after another, after any flush already running. */
  function flush(): Promise<void> {
    chain = chain.then(async () => {
      while (buffer.length > 0) {
        const batch = buffer.length <= settings.batchSize ? buffer : buffer.slice(0, settings.batchSize);
        buffer = batch === buffer ? [] : buffer.slice(settings.batchSize);
        metrics.pending(buffer.length);
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
      if (closed || buffer.length >= settings.bufferSize) {
        metrics.dropped();
        return false;
      }
      buffer.push(record);
      metrics.buffered();
      if (buffer.length >= settings.batchSize && !scheduled) {
        // A full batch is written soon, but after the current request's reply is on its way.
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
      return true;
    },
    flush,
    prune,
    get pending() {
      return buffer.length;
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
