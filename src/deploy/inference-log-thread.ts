/**
 * The inference log's writing thread (`inference-log-thread-sink.ts` starts it): owns a
 * connection of its own to the database and, for each batch the writer sends, unpacks the
 * records, redacts the inputs, encodes the tensors (numbers as bytes) and INSERTs them, then hands
 * the batch's buffers back for the next one. On SQLite every statement is synchronous: here it
 * holds up no request. Closing finishes the work in hand, then the connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceLogStore } from '../store/inference-log-store.ts';
import { openInferenceLogStore } from '../store/open-inference-log-store.ts';
import { storeLogSink } from './inference-log-sink.ts';
import {
  LOG_THREAD_CLOSE,
  LOG_THREAD_READY,
  type LogThreadData,
  type LogThreadReply,
  type LogThreadRequest,
} from './inference-log-thread-messages.ts';

if (parentPort === null) throw new Error('inference-log-thread must run in a worker thread');
const port = parentPort;
const data = workerData as LogThreadData;

// Opened once; a failure to open answers every request with its reason.
const opened: Promise<InferenceLogStore> = openInferenceLogStore({
  url: data.url,
  ...(data.cwd !== undefined && { cwd: data.cwd }),
});
opened.catch(() => undefined);
let inHand: Promise<unknown> = Promise.resolve();

async function answer(request: LogThreadRequest): Promise<LogThreadReply> {
  try {
    const sink = storeLogSink(await opened);
    if (request.type === 'write') {
      // The reply gives the batch's buffers back, for the next batch.
      return { id: request.id, ok: true, type: 'write', ...(await sink.write(request.batch)) };
    }
    return { id: request.id, ok: true, type: 'prune', removed: await sink.prune(request.options) };
  } catch (error) {
    return { id: request.id, ok: false, message: (error as Error).message };
  }
}

port.on('message', (message: LogThreadRequest | typeof LOG_THREAD_CLOSE) => {
  if (message === LOG_THREAD_CLOSE) {
    void inHand
      .then(() => opened)
      .then((store) => store.close())
      .catch(() => undefined)
      .finally(() => port.close());
    return;
  }
  const work = answer(message).then((reply) => {
    const buffers = reply.ok && reply.type === 'write' ? reply.buffers : undefined;
    port.postMessage(reply, buffers === undefined ? [] : [buffers.bytes, buffers.text]);
  });
  inHand = Promise.all([inHand, work]);
});
port.postMessage(LOG_THREAD_READY);
