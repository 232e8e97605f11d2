/**
 * Writes the inference log without ever holding up a request: records wait in a bounded buffer
 * (a full buffer drops the record and counts it) and are written in batches — a flush every
 * `flushIntervalMs`, or as soon as a batch is full — each batch one transaction of multi-row
 * INSERTs. Conversion to JSON and redaction happen at flush time, off the request path. A timer
 * applies the retention (age, then row cap).
 */
import type { InferenceLogConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { InferenceLogMetrics } from '../monitor/inference-log-metrics.ts';
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { InferenceLogStore, NewInferenceLogRecord } from '../store/inference-log-store.ts';
import { loggedTensors, type RedactionRule, type TensorToLog } from './logged-tensor.ts';

const DAY_MS = 86_400_000;

/** A record as the request path hands it over: tensors as they were, converted at flush time. */
export interface PendingLogRecord {
  readonly requestId: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: string;
  readonly at: number;
  readonly latencyMs: number;
  readonly inputs: readonly TensorToLog[];
  readonly outputs: readonly TensorToLog[];
  readonly redact: Readonly<Record<string, RedactionRule>>;
  /** The request's span, when traced: the write that stores the record is recorded under it. */
  readonly trace?: RequestTrace;
}

/** Options of {@link createInferenceLogWriter}. */
export interface InferenceLogWriterOptions {
  readonly store: Pick<InferenceLogStore, 'append' | 'prune'>;
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

function toRecord(pending: PendingLogRecord): NewInferenceLogRecord {
  return {
    requestId: pending.requestId,
    deployment: pending.deployment,
    model: pending.model,
    version: pending.version,
    at: pending.at,
    latencyMs: pending.latencyMs,
    inputs: loggedTensors(pending.inputs, pending.redact),
    outputs: loggedTensors(pending.outputs),
  };
}

/** Creates the writer and starts its flush and retention timers. */
export function createInferenceLogWriter(options: InferenceLogWriterOptions): InferenceLogWriter {
  const { store, settings, metrics, logger } = options;
  const now = options.now ?? Date.now;
  let buffer: PendingLogRecord[] = [];
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;
  let closed = false;
  let closing: Promise<void> | undefined;

  async function writeBatch(batch: readonly PendingLogRecord[]): Promise<void> {
    try {
      const start = performance.now();
      const written = await store.append(batch.map(toRecord));
      const end = performance.now();
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
    return store.prune({
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
