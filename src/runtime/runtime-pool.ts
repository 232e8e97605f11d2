/**
 * A pool of worker threads that hold onnxruntime sessions. Each loaded model version has
 * `instances` sessions spread over the workers; a run names the instance it wants, so the batcher
 * can keep every instance busy with one batch at a time.
 */
import { collectGarbage } from './collect-garbage.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import {
  WORKER_READY,
  type SessionSettings,
  type WireTensor,
  type WireValueMetadata,
  type SessionRequest,
  type WorkerRequest,
  type WorkerResponse,
} from './messages.ts';
import { createWorkerPool, type WorkerLoss, type WorkerPool } from './worker-pool.ts';

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
  /** Runs sent to the workers and not yet answered, over every model. */
  readonly running: number;
  close(): Promise<void>;
}

/** A successful reply; a failed one is turned into an error by {@link replyError}. */
type OkResponse = WorkerResponse & { ok: true };

/** How a worker's failure reply is raised: a model onnxruntime rejects is the caller's fault. */
function replyError(response: WorkerResponse & { ok: false }): StratumError {
  return response.kind === 'load'
    ? new StratumError('INVALID_MODEL', `onnxruntime could not load the model: ${response.message}`)
    : new StratumError('INTERNAL', `inference failed: ${response.message}`);
}

/** Why a request got no reply, as the runtime reports it. */
function lostError(request: SessionRequest, loss: WorkerLoss): StratumError {
  switch (loss.kind) {
    case 'closed':
      return new StratumError('SHUTTING_DOWN', 'the runtime is closed');
    case 'ended':
      return loss.closing
        ? new StratumError('SHUTTING_DOWN', 'the runtime is closed')
        : new StratumError('INTERNAL', 'runtime worker failed', {
            cause: loss.crash ?? new Error(`worker exited with code ${loss.code}`),
          });
    case 'detached': {
      const feed = request.op === 'run' ? request.feeds.find(isDetachedView) : undefined;
      return new StratumError('INTERNAL', `feed "${feed?.name ?? '?'}" of ${request.key} has a detached buffer`);
    }
    case 'unreadable':
    case 'unsendable':
      return new StratumError('INTERNAL', 'runtime worker failed', { cause: loss.error });
  }
}

/** A tensor whose data is a view of a detached buffer (an empty tensor's may be empty too). */
function isDetachedView(tensor: WireTensor): boolean {
  return ArrayBuffer.isView(tensor.data) && tensor.data.buffer.byteLength === 0 && tensor.dims.every((d) => d > 0);
}

/** Starts `workers` session workers. */
export function createRuntimePool(options: RuntimePoolOptions): RuntimePool {
  const placements = new Map<string, number[]>();
  // What each key was loaded with, so a replacement worker can load it again.
  const sources = new Map<string, { bytes: Uint8Array; settings: SessionSettings }>();
  const collectUnloadedBytes = collectorOfUnloadedBytes();
  let nextWorker = 0;
  /** Per worker: settles once a replacement thread has its sessions back. */
  const restarted: Promise<void>[] = Array.from({ length: options.workers }, () => Promise.resolve());

  const pool: WorkerPool<SessionRequest, WorkerResponse> = createWorkerPool({
    entry: new URL('./session-worker.ts', import.meta.url),
    size: options.workers,
    name: 'stratum-session',
    // The server's listening socket holds the process anyway; a pool used alone holds it until closed.
    keepAlive: 'always',
    // A load and a run answer in the order they finish, not the order they came.
    repliesInOrder: false,
    readySignal: WORKER_READY,
    shutdown: { message: { op: 'close' } satisfies WorkerRequest, readyTimeoutMs: 10_000, graceMs: 30_000 },
    lostError,
    onExit: (end) => {
      if (end.crash !== undefined)
        options.logger.error({ err: end.crash, worker: end.worker }, 'runtime worker crashed');
      if (end.closing) return;
      options.logger.error({ worker: end.worker, code: end.code }, 'runtime worker exited; starting a replacement');
      pool.replace(end.worker);
      restarted[end.worker] = reloadSessions(end.worker);
    },
  });

  // Every load is posted at once, before any run can be, so the worker (which handles messages in
  // order) has the sessions back before it sees a request for them.
  async function reloadSessions(index: number): Promise<void> {
    const loads: Promise<unknown>[] = [];
    for (const [key, workers] of placements) {
      const source = sources.get(key);
      if (source === undefined || !workers.includes(index)) continue;
      loads.push(
        send(index, { op: 'load', id: pool.nextId(), key, bytes: source.bytes, settings: source.settings }).catch(
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

  async function send(workerIndex: number, message: SessionRequest): Promise<OkResponse> {
    const response = await pool.request(workerIndex, message);
    if (!response.ok) throw replyError(response);
    return response;
  }

  let running = 0;

  return {
    size: pool.size,
    get running() {
      return running;
    },

    async load(request) {
      if (placements.has(request.key)) throw new StratumError('INTERNAL', `${request.key} is already loaded`);
      const workers: number[] = [];
      for (let i = 0; i < request.instances; i++) {
        workers.push(nextWorker);
        nextWorker = (nextWorker + 1) % pool.size;
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
              id: pool.nextId(),
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
      const transfer = transferListOf(feeds);
      // The hot path: the pool's promise is awaited directly, with no wrapper of its own.
      running++;
      let response;
      try {
        response = await pool.request(worker, { op: 'run', id: pool.nextId(), key, feeds, fetches }, transfer);
      } finally {
        running--;
      }
      if (!response.ok) throw replyError(response);
      return { outputs: response.outputs ?? [], computeNs: response.computeNs ?? 0 };
    },

    async unload(key) {
      const workers = placements.get(key);
      if (workers === undefined) return;
      placements.delete(key);
      sources.delete(key);
      await Promise.all([...new Set(workers)].map((w) => send(w, { op: 'unload', id: pool.nextId(), key })));
      collectUnloadedBytes();
    },

    async restartWorker(index) {
      if (!(index >= 0 && index < pool.size)) throw new StratumError('INTERNAL', `no worker ${index}`);
      // After onnxruntime has loaded in it (see WORKER_READY); its exit starts the replacement.
      await pool.terminate(index);
      await restarted[index];
    },

    async close() {
      // Each worker finishes its requests, releases its sessions and ends by itself (see the
      // `close` request); it is terminated only if it does not within the grace period.
      await pool
        .close()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'a runtime worker did not terminate cleanly'));
    },
  };
}

/** The distinct buffers of the feeds, to move to the worker rather than copy. */
function transferListOf(feeds: readonly { readonly data: unknown }[]): ArrayBuffer[] {
  const transfer: ArrayBuffer[] = [];
  for (const f of feeds) {
    if (!ArrayBuffer.isView(f.data)) continue;
    // A detached buffer (a feed already sent) is refused by the pool; see `lostError`.
    const buffer = f.data.buffer as ArrayBuffer;
    if (!transfer.includes(buffer)) transfer.push(buffer);
  }
  return transfer;
}

/**
 * After an unload: the unloaded model's bytes (kept for worker restarts) and the copies made while
 * loading its successor are garbage now. V8 lets tens of megabytes of them pile up before it
 * collects; collecting once they pass a smaller threshold keeps RSS flat without paying a full
 * collection (a pause of the event loop) on every unload.
 */
function collectorOfUnloadedBytes(): () => void {
  let afterCollection = process.memoryUsage().arrayBuffers;
  return () => {
    if (process.memoryUsage().arrayBuffers - afterCollection <= COLLECT_AFTER_EXTERNAL_BYTES) return;
    collectGarbage();
    afterCollection = process.memoryUsage().arrayBuffers;
  };
}
