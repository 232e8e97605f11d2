/**
 * A worker thread that owns onnxruntime sessions. onnxruntime-node's `session.run` executes the
 * graph synchronously on the calling thread (its async API only defers the call with
 * setImmediate), so running it on the main thread would stall every request for the length of a
 * batch. This is the only module that touches onnxruntime.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { collectGarbage } from './collect-garbage.ts';
import {
  WORKER_READY,
  type WireTensor,
  type SessionRequest,
  type WireValueMetadata,
  type WorkerRequest,
  type WorkerResponse,
} from './messages.ts';

if (parentPort === null) throw new Error('session-worker must run in a worker thread');
const port = parentPort;
const sessions = new Map<string, ort.InferenceSession>();

// A worker allocates little JavaScript, so its garbage collector rarely runs on its own, and the
// model bytes each load receives (megabytes of external memory) would stay resident for a long
// time: measured, RSS grew ~40% over 100 load/unload cycles of the MLP and only ~5% with a
// collection after each load and unload (see collect-garbage.ts).

port.postMessage(WORKER_READY);

/** Requests received and not yet answered: a close waits for them. */
const inFlight = new Set<Promise<void>>();

port.on('message', (message: WorkerRequest) => {
  if (message.op === 'close') {
    void close();
    return;
  }
  const answered = handle(message).then(
    ({ response, transfer }) => port.postMessage(response, transfer),
    (error: unknown) => {
      const kind = message.op === 'load' ? 'load' : message.op === 'run' ? 'run' : 'other';
      const text = error instanceof Error ? error.message : String(error);
      port.postMessage({ id: message.id, ok: false, message: text, kind } satisfies WorkerResponse);
    },
  );
  inFlight.add(answered);
  void answered.finally(() => inFlight.delete(answered));
});

/** Answers what was received, releases every session while the thread is whole, then lets it end. */
async function close(): Promise<void> {
  await Promise.allSettled([...inFlight]);
  for (const session of sessions.values()) await session.release().catch(() => undefined);
  sessions.clear();
  // With the port closed nothing keeps the thread's event loop alive: it exits with code 0.
  port.close();
}

async function handle(message: SessionRequest): Promise<{ response: WorkerResponse; transfer: ArrayBuffer[] }> {
  switch (message.op) {
    case 'load': {
      const previous = sessions.get(message.key);
      const session = await ort.InferenceSession.create(message.bytes, {
        intraOpNumThreads: message.settings.intraOpThreads,
        interOpNumThreads: message.settings.interOpThreads,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      sessions.set(message.key, session);
      if (previous !== undefined) await previous.release();
      collectGarbage();
      return {
        response: {
          id: message.id,
          ok: true,
          inputs: session.inputMetadata.map(toWireMetadata),
          outputMetadata: session.outputMetadata.map(toWireMetadata),
        },
        transfer: [],
      };
    }
    case 'run': {
      const session = sessions.get(message.key);
      if (session === undefined) throw new Error(`no session loaded for ${message.key}`);
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of message.feeds) {
        feeds[t.name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
      }
      const start = process.hrtime.bigint();
      const result = await session.run(feeds, message.fetches as string[]);
      const computeNs = Number(process.hrtime.bigint() - start);
      const outputs: WireTensor[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const name of message.fetches) {
        const value = result[name];
        if (value === undefined) throw new Error(`session returned no output "${name}"`);
        const data = ownedData(value.data);
        outputs.push({ name, type: value.type, dims: value.dims, data });
        if (ArrayBuffer.isView(data)) transfer.push(data.buffer as ArrayBuffer);
      }
      return { response: { id: message.id, ok: true, outputs, computeNs }, transfer };
    }
    case 'unload': {
      const session = sessions.get(message.key);
      sessions.delete(message.key);
      if (session !== undefined) await session.release();
      collectGarbage();
      return { response: { id: message.id, ok: true }, transfer: [] };
    }
  }
}

// Output tensors may share or not own their buffer; a compact copy can always be transferred.
function ownedData(data: ort.Tensor.DataType): ArrayBufferView | string[] {
  if (Array.isArray(data)) return data as string[];
  const view = data as unknown as ArrayBufferView;
  if (
    view.byteOffset === 0 &&
    view.byteLength === view.buffer.byteLength &&
    !(view.buffer instanceof SharedArrayBuffer)
  ) {
    return view;
  }
  return (view as unknown as Uint8Array).slice();
}

function toWireMetadata(meta: ort.InferenceSession.ValueMetadata): WireValueMetadata {
  if (!meta.isTensor) return { name: meta.name, isTensor: false };
  return { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] };
}
