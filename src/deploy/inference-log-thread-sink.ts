/**
 * The inference log's sink in a worker thread (`inference-log-thread.ts`) with a connection of
 * its own: the serving event loop only posts each packed batch (its two buffers transferred; the
 * thread gives them back with its reply, `log-batch-packing.ts`), and the unpacking, the
 * redaction, the encoding and the INSERTs — SQLite's synchronous ones included — run in the
 * thread. PostgreSQL works the same way.
 */
import { StratumError } from '../errors/index.ts';
import { createWorkerPool, describeLoss, type WorkerPool } from '../runtime/worker-pool.ts';
import type { InferenceLogSink } from './inference-log-sink.ts';
import {
  LOG_THREAD_CLOSE,
  LOG_THREAD_READY,
  type LogThreadData,
  type LogThreadReply,
  type LogThreadRequest,
} from './inference-log-thread-messages.ts';
import type { PackedLogBatch } from './log-batch-packing.ts';

/** Options of {@link openThreadLogSink}. */
export interface ThreadLogSinkOptions {
  /** The metadata database (`sqlite:<path>` or `postgres://…`). */
  readonly url: string;
  /** Base of a relative SQLite path. @default process.cwd() */
  readonly cwd?: string;
}

/** Starts the thread (it opens and migrates its connection) and returns the sink. */
export function openThreadLogSink(options: ThreadLogSinkOptions): InferenceLogSink {
  const workerData: LogThreadData = { url: options.url, ...(options.cwd !== undefined && { cwd: options.cwd }) };
  const pool: WorkerPool<LogThreadRequest, LogThreadReply> = createWorkerPool<LogThreadRequest, LogThreadReply>({
    entry: new URL('./inference-log-thread.ts', import.meta.url),
    size: 1,
    name: 'stratum-inference-log',
    workerData: () => workerData,
    keepAlive: 'while-busy',
    // A prune and a write may finish in either order.
    repliesInOrder: false,
    readySignal: LOG_THREAD_READY,
    // The thread holds a database connection: it finishes its writes and closes it.
    shutdown: { message: LOG_THREAD_CLOSE },
    lostError: (_request, loss) =>
      new StratumError(
        'STORE_UNAVAILABLE',
        `the inference log thread: ${describeLoss(loss, { worker: 'log thread', closedBecause: 'the writer was closed' })}`,
      ),
  });
  let closed: Promise<void> | undefined;

  async function ask(request: LogThreadRequest, transfer?: ArrayBuffer[]): Promise<LogThreadReply & { ok: true }> {
    if (closed !== undefined) throw new StratumError('SHUTTING_DOWN', 'the inference log thread is closed');
    const reply = await pool.request(0, request, transfer);
    if (!reply.ok) throw new StratumError('STORE_UNAVAILABLE', `the inference log thread: ${reply.message}`);
    return reply;
  }

  return {
    async write(batch: PackedLogBatch) {
      const reply = await ask({ id: pool.nextId(), type: 'write', batch }, [batch.bytes, batch.text]);
      if (reply.type !== 'write')
        throw new StratumError('INTERNAL', 'the inference log thread answered a write with a prune');
      const { written, startedAt, endedAt, buffers } = reply;
      return { written, startedAt, endedAt, ...(buffers !== undefined && { buffers }) };
    },
    async prune(pruneOptions) {
      const reply = await ask({ id: pool.nextId(), type: 'prune', options: pruneOptions });
      if (reply.type !== 'prune')
        throw new StratumError('INTERNAL', 'the inference log thread answered a prune with a write');
      return reply.removed;
    },
    close() {
      closed ??= pool.close();
      return closed;
    },
  };
}
