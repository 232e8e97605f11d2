/**
 * A pool of worker threads that hold onnxruntime sessions. Each loaded model version has
 * `instances` sessions spread over the workers; a run names the instance it wants, so the batcher
 * can keep every instance busy with one batch at a time.
 */
import type { Worker } from 'node:worker_threads';
import { collectGarbage } from './collect-garbage.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import {
  WORKER_READY,
  type SessionSettings,
  type WireTensor,
  type WireValueMetadata,
  type WorkerRequest,
  type WorkerResponse,
} from './messages.ts';
import { startWorker } from './start-worker.ts';

/** Garbage (ArrayBuffer bytes) allowed to accumulate on the main thread across unloads. */
const COLLECT_AFTER_EXTERNAL_BYTES = 16 * 1024 * 1024;

/** Options of {@link createRuntimePool}. */
export interface RuntimePoolOptions {
  /** Number of worker threads. */
  workers: number;
  /** Logger for worker failures. */
  logger: Logger;
}

/** What {@link RuntimePool.load} loads. */
export interface LoadRequest {
  /** Unique key of the model version (e.g. `mlp:1`). */
  key: string;
  /** The ONNX model. */
  bytes: Uint8Array;
  /** How many sessions (execution slots) to create. */
  instances: number;
  settings: SessionSettings;
}

/** A loaded model version: its metadata and the instances that can run it. */
export interface LoadedModel {
  readonly key: string;
  readonly inputs: readonly WireValueMetadata[];
  readonly outputs: readonly WireValueMetadata[];
  /** Instance count; pass an index in [0, instances) to {@link RuntimePool.run}. */
  readonly instances: number;
}

/** A run's outputs and the time spent in `session.run`. */
export interface RunResult {
  readonly outputs: readonly WireTensor[];
  readonly computeNs: number;
}

/** The pool. */
export interface RuntimePool {
  load(request: LoadRequest): Promise<LoadedModel>;
  /**
   * Runs one instance of a loaded model. The feeds' buffers are transferred to the worker: the
   * caller must own them and not read them afterwards.
   */
  run(options: {
    key: string;
    instance: number;
    feeds: readonly WireTensor[];
    fetches: readonly string[];
  }): Promise<RunResult>;
  unload(key: string): Promise<void>;
  /**
   * Replaces worker `index` with a fresh thread and reloads its sessions. Requests it held fail
   * with INTERNAL; later ones run on the new thread. A worker that dies is restarted the same way.
   */
  restartWorker(index: number): Promise<void>;
  /** Number of worker threads. */
  readonly size: number;
  close(): Promise<void>;
}

interface Pending {
  resolve: (response: WorkerResponse & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Settles once a replacement thread has its sessions back. */
  restarted: Promise<void>;
  /** Settles once the thread has loaded onnxruntime (or exited). */
  ready: Promise<void>;
}

/** Longest wait for a starting worker before terminating it anyway. */
const READY_TIMEOUT_MS = 10_000;

/** Longest wait for a closing worker to finish its requests and end before terminating it. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * Ends a worker the safe way: it finishes the requests it has, releases its sessions and exits by
 * itself (see the `close` request); `terminate()` only if it does not within CLOSE_TIMEOUT_MS.
 */
async function closeWorker(slot: WorkerSlot): Promise<void> {
  if (slot.worker.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS)));
  await Promise.race([slot.ready, gaveUp]);
  slot.worker.postMessage({ op: 'close' } satisfies WorkerRequest);
  const outcome = await Promise.race([exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout') await slot.worker.terminate();
}

/** Terminates a worker once it is past onnxruntime's initialisation (see WORKER_READY). */
async function terminateWhenReady(slot: WorkerSlot): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([slot.ready, new Promise((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS)))]);
  clearTimeout(timer);
  return slot.worker.terminate();
}

/** Starts `workers` session workers. */
export function createRuntimePool(options: RuntimePoolOptions): RuntimePool {
  const url = new URL('./session-worker.ts', import.meta.url);
  let nextId = 1;
  let closed = false;
  const placements = new Map<string, number[]>();
  // What each key was loaded with, so a replacement worker can load it again.
  const sources = new Map<string, { bytes: Uint8Array; settings: SessionSettings }>();
  let externalAfterCollection = process.memoryUsage().arrayBuffers;
  let nextWorker = 0;

  const slots: WorkerSlot[] = Array.from({ length: options.workers }, (_, index) => spawn(index));

  function spawn(index: number): WorkerSlot {
    const worker = startWorker(url, { name: `stratum-session-${index}` });
    let markReady = (): void => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const slot: WorkerSlot = { worker, pending: new Map(), restarted: Promise.resolve(), ready };
    worker.once('exit', () => markReady());
    worker.on('message', (response: WorkerResponse | typeof WORKER_READY) => {
      if (response === WORKER_READY) return markReady();
      const pending = slot.pending.get(response.id);
      if (pending === undefined) return;
      slot.pending.delete(response.id);
      if (response.ok) pending.resolve(response);
      else if (response.kind === 'load') {
        pending.reject(new StratumError('INVALID_MODEL', `onnxruntime could not load the model: ${response.message}`));
      } else {
        pending.reject(new StratumError('INTERNAL', `inference failed: ${response.message}`));
      }
    });
    const fail = (error: Error): void => {
      for (const p of slot.pending.values())
        p.reject(new StratumError('INTERNAL', 'runtime worker failed', { cause: error }));
      slot.pending.clear();
    };
    worker.on('error', (error) => {
      options.logger.error({ err: error, worker: index }, 'runtime worker crashed');
      fail(error);
    });
    worker.on('exit', (code) => {
      if (closed) return;
      options.logger.error({ worker: index, code }, 'runtime worker exited; starting a replacement');
      fail(new Error(`worker exited with code ${code}`));
      const replacement = spawn(index);
      slots[index] = replacement;
      replacement.restarted = reloadSessions(index);
    });
    return slot;
  }

  // Every load is posted at once, before any run can be, so the worker (which handles messages in
  // order) has the sessions back before it sees a request for them.
  async function reloadSessions(index: number): Promise<void> {
    const loads: Promise<unknown>[] = [];
    for (const [key, workers] of placements) {
      const source = sources.get(key);
      if (source === undefined || !workers.includes(index)) continue;
      loads.push(
        send(index, { op: 'load', id: nextId++, key, bytes: source.bytes, settings: source.settings }).catch(
          (error: unknown) =>
            options.logger.error(
              { err: error, key, worker: index },
              'reloading a session after a worker restart failed',
            ),
        ),
      );
    }
    await Promise.all(loads);
  }

  function send(
    workerIndex: number,
    message: Exclude<WorkerRequest, { op: 'close' }>,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerResponse & { ok: true }> {
    if (closed) return Promise.reject(new StratumError('SHUTTING_DOWN', 'the runtime is closed'));
    const slot = slots[workerIndex];
    if (slot === undefined) return Promise.reject(new StratumError('INTERNAL', `no worker ${workerIndex}`));
    return new Promise((resolve, reject) => {
      slot.pending.set(message.id, { resolve, reject });
      slot.worker.postMessage(message, transfer);
    });
  }

  return {
    size: slots.length,

    async load(request) {
      if (placements.has(request.key)) throw new StratumError('INTERNAL', `${request.key} is already loaded`);
      const workers: number[] = [];
      for (let i = 0; i < request.instances; i++) {
        workers.push(nextWorker);
        nextWorker = (nextWorker + 1) % slots.length;
      }
      // One session per worker that hosts an instance; instances on the same worker share it.
      const hosts = [...new Set(workers)];
      placements.set(request.key, workers);
      try {
        // One worker at a time: creating a session occupies its worker for tens of milliseconds,
        // and the other workers keep running batches of the versions already serving meanwhile.
        const responses = [];
        for (const w of hosts) {
          responses.push(
            await send(w, {
              op: 'load',
              id: nextId++,
              key: request.key,
              bytes: request.bytes,
              settings: request.settings,
            }),
          );
        }
        sources.set(request.key, { bytes: request.bytes, settings: request.settings });
        const first = responses[0];
        return {
          key: request.key,
          inputs: first?.inputs ?? [],
          outputs: first?.outputMetadata ?? [],
          instances: workers.length,
        };
      } catch (error) {
        await this.unload(request.key).catch(() => undefined);
        throw error;
      }
    },

    async run({ key, instance, feeds, fetches }) {
      const workers = placements.get(key);
      const worker = workers?.[instance];
      if (worker === undefined) throw new StratumError('MODEL_NOT_READY', `${key} is not loaded`);
      const transfer: ArrayBuffer[] = [];
      for (const f of feeds) {
        if (!ArrayBuffer.isView(f.data)) continue;
        const buffer = f.data.buffer as ArrayBuffer;
        // Node drops a message whose transfer list holds a detached buffer without any error, and
        // the request would wait forever: refuse it here instead.
        if (buffer.byteLength === 0 && f.dims.every((d) => d > 0)) {
          throw new StratumError('INTERNAL', `feed "${f.name}" of ${key} has a detached buffer`);
        }
        if (!transfer.includes(buffer)) transfer.push(buffer);
      }
      const response = await send(worker, { op: 'run', id: nextId++, key, feeds, fetches }, transfer);
      return { outputs: response.outputs ?? [], computeNs: response.computeNs ?? 0 };
    },

    async unload(key) {
      const workers = placements.get(key);
      if (workers === undefined) return;
      placements.delete(key);
      sources.delete(key);
      await Promise.all([...new Set(workers)].map((w) => send(w, { op: 'unload', id: nextId++, key })));
      // The unloaded model's bytes (kept here for worker restarts) and the copies made while
      // loading its successor are garbage now. V8 lets tens of megabytes of them pile up before
      // it collects; collecting once they pass a smaller threshold keeps RSS flat without paying
      // a full collection (a pause of the event loop) on every unload.
      const external = process.memoryUsage().arrayBuffers;
      if (external - externalAfterCollection > COLLECT_AFTER_EXTERNAL_BYTES) {
        collectGarbage();
        externalAfterCollection = process.memoryUsage().arrayBuffers;
      }
    },

    async restartWorker(index) {
      const slot = slots[index];
      if (slot === undefined) throw new StratumError('INTERNAL', `no worker ${index}`);
      await terminateWhenReady(slot);
      await slots[index]?.restarted;
    },

    async close() {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled(slots.map((s) => closeWorker(s)));
      for (const s of slots) {
        for (const p of s.pending.values()) p.reject(new StratumError('SHUTTING_DOWN', 'the runtime is closed'));
        s.pending.clear();
      }
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) options.logger.warn({ err: failed.reason }, 'a runtime worker did not terminate cleanly');
    },
  };
}
