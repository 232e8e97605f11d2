/**
 * A worker thread that owns onnxruntime sessions. onnxruntime-node's `session.run` executes the
 * graph synchronously on the calling thread (its async API only defers the call with
 * setImmediate), so running it on the main thread would stall every request for the length of a
 * batch. The sessions themselves are `ort-session.ts`'s.
 */
import { parentPort } from 'node:worker_threads';
import { collectGarbage } from './collect-garbage.ts';
import { WORKER_READY, type SessionRequest, type WorkerRequest, type WorkerResponse } from './messages.ts';
import { loadOrtSession, type OrtSession } from './ort-session.ts';

if (parentPort === null) throw new Error('session-worker must run in a worker thread');
const port = parentPort;
const sessions = new Map<string, OrtSession>();

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
      const session = await loadOrtSession(message.bytes, message.settings);
      sessions.set(message.key, session);
      if (previous !== undefined) await previous.release();
      collectGarbage();
      return {
        response: { id: message.id, ok: true, inputs: session.inputs, outputMetadata: session.outputs },
        transfer: [],
      };
    }
    case 'run': {
      const session = sessions.get(message.key);
      if (session === undefined) throw new Error(`no session loaded for ${message.key}`);
      const { outputs, transfer, computeNs } = await session.run(message.feeds, message.fetches);
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
