/**
 * The one pool of worker threads every part of Stratum uses: the runtime's session workers,
 * `mapInWorkers`, the numeric CSV reader and the training shards. It starts the threads, numbers
 * requests and matches replies to them, routes to a given or the least busy worker, keeps the
 * event loop alive only as long as it should, and settles every request: by its reply, or by an
 * error saying why none will come (the worker ended, the reply could not be read, the request
 * could not be sent, the pool is closed). What a request means and what its error says stays with
 * the pool's user.
 */
import type { TransferListItem, Worker } from 'node:worker_threads';
import { StratumError } from '../errors/index.ts';
import { startWorker } from './start-worker.ts';

/** Why a request gets no reply; handed to {@link WorkerPoolOptions.lostError}. */
export type WorkerLoss =
  /** The pool is closed (or every worker has ended): the request was not sent. */
  | { readonly kind: 'closed' }
  /** The worker ended before replying: asked to by the pool (`closing`), crashed or exited. */
  | WorkerEnd
  /** The worker's reply could not be deserialized (`messageerror`). */
  | { readonly kind: 'unreadable'; readonly worker: number; readonly error: Error }
  /** `postMessage` threw (e.g. a value that is not structured-cloneable): nothing was sent. */
  | { readonly kind: 'unsendable'; readonly worker: number; readonly error: unknown }
  /** Transfer-list item `item` is a detached ArrayBuffer: nothing was sent (see `request`). */
  | { readonly kind: 'detached'; readonly worker: number; readonly item: number };

/** How a worker ended. */
export interface WorkerEnd {
  readonly kind: 'ended';
  readonly worker: number;
  /** The thread's exit code. */
  readonly code: number;
  /** The uncaught error the thread reported before it ended, if any. */
  readonly crash: Error | undefined;
  /** True when the pool ended it (`close` or `terminate`). */
  readonly closing: boolean;
}

/** Every request and reply carries the number the pool gave it ({@link WorkerPool.nextId}). */
export interface Numbered {
  readonly id: number;
}

/**
 * What keeps the process alive: `always`, a worker keeps the event loop alive like any `Worker`;
 * `while-busy`, only while it owes a reply or is being closed, so an abandoned pool never holds
 * the process; `never`, for callers that wait on their threads some other way (`Atomics.wait`).
 */
export type WorkerKeepAlive = 'always' | 'while-busy' | 'never';

/** How a pool ends workers that must not be stopped mid-flight. */
export interface WorkerShutdown {
  /** Asks a worker to finish the requests it has, release what it holds and end by itself. */
  readonly message: unknown;
  /**
   * Longest wait for a worker's ready signal before `terminate` proceeds anyway.
   * @default 10000
   */
  readonly readyTimeoutMs?: number;
  /**
   * Longest wait, in `close`, for a worker to become ready and then end by itself before it is
   * terminated.
   * @default 30000
   */
  readonly graceMs?: number;
}

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions<Request extends Numbered> {
  /** The worker's module, named by its TypeScript source (see `startWorker`). */
  readonly entry: URL;
  /** Worker threads. */
  readonly size: number;
  /** Names the threads (`${name}-${index}`) and, by default, the pool in error messages. */
  readonly name: string;
  /** Each worker's `workerData`. */
  readonly workerData?: (index: number) => unknown;
  /** @default 'while-busy' */
  readonly keepAlive?: WorkerKeepAlive;
  /**
   * Whether a worker answers its requests in the order it received them. An unreadable reply is
   * then its oldest request's; otherwise it cannot be attributed and fails every request the
   * worker holds (each would otherwise wait forever).
   * @default true
   */
  readonly repliesInOrder?: boolean;
  /**
   * A string a worker posts once it has loaded its modules ({@link WorkerPool.ready}). With
   * `shutdown`, a worker is never terminated before it sent this: terminating a thread while a
   * native module initialises can abort the whole process (onnxruntime: `terminate called after
   * throwing an instance of 'Napi::Error'`).
   */
  readonly readySignal?: string;
  /** Graceful ending; without it `close` terminates the workers at once. */
  readonly shutdown?: WorkerShutdown;
  /**
   * The error a request is rejected with when no reply will come.
   * @default a StratumError INTERNAL naming the pool, the worker and the loss
   */
  readonly lostError?: (request: Request, loss: WorkerLoss) => Error;
  /** Called after a worker ended and its requests were rejected (e.g. to {@link WorkerPool.replace} it). */
  readonly onExit?: (end: WorkerEnd) => void;
}

/** A started pool; see {@link createWorkerPool}. */
export interface WorkerPool<Request extends Numbered, Reply extends Numbered> {
  /** Worker threads. */
  readonly size: number;
  /** True once every worker has posted the ready signal. */
  readonly ready: boolean;
  /** A number no other request of this pool has; put it in the request's `id`. */
  nextId(): number;
  /**
   * Sends `message` to worker `worker`, or to the live worker owing the fewest replies, and
   * resolves with the reply carrying its id. `transfer` moves buffers instead of copying them.
   * Node silently drops a message whose transfer list holds a detached ArrayBuffer (the request
   * would wait forever), so such a request is refused before anything is sent.
   */
  request(worker: number | 'least-busy', message: Request, transfer?: readonly TransferListItem[]): Promise<Reply>;
  /**
   * Terminates worker `worker` (after its ready signal, with `shutdown`); its requests are
   * rejected. Resolves once the thread has ended.
   */
  terminate(worker: number): Promise<void>;
  /** Starts a fresh thread in the place of worker `worker`, which has ended. */
  replace(worker: number): void;
  /**
   * Ends every worker (see {@link WorkerShutdown}) and rejects what is still unanswered; later
   * requests are rejected as `closed`. Idempotent: every call returns the same promise, which
   * rejects with the first failure once every worker was dealt with.
   */
  close(): Promise<void>;
}

interface Pending<Request, Reply> {
  readonly message: Request;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

interface Thread<Request, Reply> {
  readonly index: number;
  readonly worker: Worker;
  /** Requests sent and not answered, by id, oldest first. */
  readonly pending: Map<number, Pending<Request, Reply>>;
  crash: Error | undefined;
  exited: boolean;
  /** Settles with the ready signal or the thread's exit. */
  readonly ready: Promise<void>;
  isReady: boolean;
  markReady: () => void;
}

const NO_TRANSFER: readonly TransferListItem[] = [];
const CLOSED: WorkerLoss = Object.freeze({ kind: 'closed' });
const DEFAULT_READY_TIMEOUT_MS = 10_000;
const DEFAULT_GRACE_MS = 30_000;

/** Words of {@link describeLoss}. */
export interface LossWords {
  /** What a worker is called: `csv worker` → `csv worker 2 exited with code 1`. */
  readonly worker: string;
  /** Why the pool ended its workers: `the reader was closed`. */
  readonly closedBecause: string;
}

/** How a worker ended, for a message: `worker 2 crashed (out of memory)`. */
export function describeEnd(end: WorkerEnd, words: LossWords): string {
  const how = end.closing
    ? `was terminated (${words.closedBecause})`
    : end.crash !== undefined
      ? `crashed (${end.crash.message})`
      : `exited with code ${end.code}`;
  return `${words.worker} ${end.worker} ${how}`;
}

/** Why a request got no reply, for a message: `worker 2 exited with code 1 before replying`. */
export function describeLoss(loss: WorkerLoss, words: LossWords): string {
  switch (loss.kind) {
    case 'closed':
      return `the ${words.worker}s are closed`;
    case 'ended':
      return `${describeEnd(loss, words)} before replying`;
    case 'unreadable':
      return `the reply of ${words.worker} ${loss.worker} could not be read: ${loss.error.message}`;
    case 'unsendable':
      return `cannot be sent to ${words.worker} ${loss.worker}: ${String(loss.error)}`;
    case 'detached':
      return `cannot be sent to ${words.worker} ${loss.worker}: transfer-list item ${loss.item} is a detached ArrayBuffer`;
  }
}

/** A transfer-list item that is an ArrayBuffer already transferred elsewhere. */
function isDetached(item: TransferListItem): boolean {
  // Node 20 has no `ArrayBuffer.prototype.detached`; a detached buffer's length reads 0 and a
  // view of it cannot be made. Checked only for empty buffers, so the usual case costs one read.
  if ((item as ArrayBuffer).byteLength !== 0 || !(item instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(item);
    return false;
  } catch {
    return true;
  }
}

/**
 * Starts `size` worker threads running `entry`.
 *
 * @example
 * const pool = createWorkerPool<Job, Done>({ entry: new URL('./job-worker.ts', import.meta.url), size: 2, name: 'stratum-job' });
 * const done = await pool.request('least-busy', { id: pool.nextId(), rows });
 * await pool.close();
 */
export function createWorkerPool<Request extends Numbered, Reply extends Numbered>(
  options: WorkerPoolOptions<Request>,
): WorkerPool<Request, Reply> {
  return new Pool<Request, Reply>(options);
}

class Pool<Request extends Numbered, Reply extends Numbered> implements WorkerPool<Request, Reply> {
  readonly #options: WorkerPoolOptions<Request>;
  readonly #whileBusy: boolean;
  readonly #threads: Thread<Request, Reply>[];
  #nextId = 1;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: WorkerPoolOptions<Request>) {
    this.#options = options;
    this.#whileBusy = (options.keepAlive ?? 'while-busy') === 'while-busy';
    this.#threads = Array.from({ length: options.size }, (_, index) => this.#start(index));
  }

  get size(): number {
    return this.#threads.length;
  }

  get ready(): boolean {
    return this.#threads.every((thread) => thread.isReady);
  }

  nextId(): number {
    return this.#nextId++;
  }

  request(worker: number | 'least-busy', message: Request, transfer = NO_TRANSFER): Promise<Reply> {
    const thread = worker === 'least-busy' ? this.#leastBusy() : this.#threads[worker];
    if (this.#closing || thread === undefined || thread.exited) return Promise.reject(this.#lost(message, CLOSED));
    for (let item = 0; item < transfer.length; item++) {
      if (isDetached(transfer[item]!)) {
        return Promise.reject(this.#lost(message, { kind: 'detached', worker: thread.index, item }));
      }
    }
    return new Promise((resolve, reject) => {
      try {
        thread.worker.postMessage(message, transfer);
      } catch (error) {
        reject(this.#lost(message, { kind: 'unsendable', worker: thread.index, error }));
        return;
      }
      thread.pending.set(message.id, { message, resolve, reject });
      if (this.#whileBusy) this.#holdLoop(thread);
    });
  }

  async terminate(worker: number): Promise<void> {
    const thread = this.#threads[worker];
    if (thread === undefined || thread.exited) return;
    const { shutdown } = this.#options;
    if (shutdown !== undefined) await settleWithin(thread.ready, shutdown.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    if (this.#options.keepAlive !== 'never') thread.worker.ref();
    await thread.worker.terminate();
  }

  replace(worker: number): void {
    const thread = this.#threads[worker];
    if (thread === undefined || !thread.exited || this.#closing) return;
    this.#threads[worker] = this.#start(worker);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    const results = await Promise.allSettled(this.#threads.map((thread) => this.#end(thread)));
    for (const thread of this.#threads) this.#rejectAll(thread, CLOSED);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Ends one worker for `close`: gracefully when the pool has a shutdown message, else at once. */
  async #end(thread: Thread<Request, Reply>): Promise<void> {
    if (thread.exited) return;
    if (this.#options.keepAlive !== 'never') thread.worker.ref();
    const { shutdown } = this.#options;
    if (shutdown === undefined) {
      await thread.worker.terminate();
      return;
    }
    const exited = new Promise<'exited'>((resolve) => thread.worker.once('exit', () => resolve('exited')));
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), shutdown.graceMs ?? DEFAULT_GRACE_MS);
    });
    await Promise.race([thread.ready, gaveUp]);
    if (!thread.exited) thread.worker.postMessage(shutdown.message);
    const outcome = await Promise.race([exited, gaveUp]);
    clearTimeout(timer);
    if (outcome === 'timeout') await thread.worker.terminate();
  }

  #start(index: number): Thread<Request, Reply> {
    const { entry, name, workerData, readySignal } = this.#options;
    const worker = startWorker(entry, {
      name: `${name}-${index}`,
      ...(workerData === undefined ? {} : { workerData: workerData(index) }),
    });
    let markReady = (): void => undefined;
    // Without a ready signal a worker counts as ready from the start.
    const ready = readySignal === undefined ? Promise.resolve() : new Promise<void>((resolve) => (markReady = resolve));
    const thread: Thread<Request, Reply> = {
      index,
      worker,
      pending: new Map(),
      crash: undefined,
      exited: false,
      ready,
      isReady: readySignal === undefined,
      markReady,
    };
    if (this.#options.keepAlive !== 'always') worker.unref();
    worker.on('message', (message: Reply | string) => {
      if (message === readySignal) {
        thread.isReady = true;
        thread.markReady();
        return;
      }
      const id = (message as Reply).id;
      const pending = thread.pending.get(id);
      if (pending === undefined) return;
      thread.pending.delete(id);
      if (this.#whileBusy) this.#holdLoop(thread);
      pending.resolve(message as Reply);
    });
    worker.on('messageerror', (error) => this.#unreadable(thread, error));
    // Listening also keeps a late 'error' from becoming an uncaught exception.
    worker.on('error', (error) => {
      thread.crash ??= error;
    });
    worker.on('exit', (code) => this.#exited(thread, code));
    return thread;
  }

  /** The live worker owing the fewest replies (the first of equals). */
  #leastBusy(): Thread<Request, Reply> | undefined {
    let best: Thread<Request, Reply> | undefined;
    for (const thread of this.#threads) {
      if (!thread.exited && (best === undefined || thread.pending.size < best.pending.size)) best = thread;
    }
    return best;
  }

  /**
   * With `while-busy`, a worker keeps the event loop alive while it owes a reply (the caller
   * awaits it, and nothing else may be pending) or is being closed; an idle one does not.
   */
  #holdLoop(thread: Thread<Request, Reply>): void {
    if (this.#closing || thread.pending.size > 0) thread.worker.ref();
    else thread.worker.unref();
  }

  #unreadable(thread: Thread<Request, Reply>, error: Error): void {
    const loss: WorkerLoss = { kind: 'unreadable', worker: thread.index, error };
    if (this.#options.repliesInOrder === false) {
      this.#rejectAll(thread, loss);
      return;
    }
    const oldest = thread.pending.entries().next();
    if (oldest.done === true) return;
    const [id, pending] = oldest.value;
    thread.pending.delete(id);
    if (this.#whileBusy) this.#holdLoop(thread);
    pending.reject(this.#lost(pending.message, loss));
  }

  #exited(thread: Thread<Request, Reply>, code: number): void {
    thread.exited = true;
    thread.markReady();
    const end: WorkerEnd = { kind: 'ended', worker: thread.index, code, crash: thread.crash, closing: this.#closing };
    this.#rejectAll(thread, end);
    this.#options.onExit?.(end);
  }

  #rejectAll(thread: Thread<Request, Reply>, loss: WorkerLoss): void {
    if (thread.pending.size === 0) return;
    const pending = [...thread.pending.values()];
    thread.pending.clear();
    for (const p of pending) p.reject(this.#lost(p.message, loss));
  }

  #lost(message: Request, loss: WorkerLoss): Error {
    const { lostError, name } = this.#options;
    if (lostError !== undefined) return lostError(message, loss);
    const cause = loss.kind === 'ended' ? loss.crash : 'error' in loss ? loss.error : undefined;
    const what = describeLoss(loss, { worker: 'worker', closedBecause: 'the pool was closed' });
    return new StratumError('INTERNAL', `${name}: ${what}`, { cause, details: { loss: loss.kind } });
  }
}

/** Waits for `promise`, at most `ms`. */
async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
