/**
 * The engine of `Dataset.mapInWorkers`: a function exported by a module runs on worker threads
 * (closures cannot cross threads, so the work is named by module URL and export name). Elements go
 * out in chunks to amortise messaging, at most `concurrency × 2` chunks are out at once
 * (backpressure: a slow consumer stops the reading of the source), and results come back in the
 * source's order whatever the order the workers finish in. Workers are terminated when the
 * iteration ends, completed, left early or failed, and are unref'd whenever idle, so an abandoned
 * iteration never keeps the process alive.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { ERROR_CODES, type ErrorCode, StratumError } from '../errors/index.ts';
import { startWorker } from '../runtime/start-worker.ts';
import type { MapFailure, MapRequest, MapResponse, MapWorkerData } from './map-worker-protocol.ts';

/** A function a module exports for `mapInWorkers`: called with each element and its index. */
export type WorkerMapFunction<T, U> = (item: T, index: number) => U | Promise<U>;

/** Options of `Dataset.mapInWorkers`. */
export interface WorkerMapOptions {
  /**
   * The module exporting the function: a URL (`new URL('./parse.ts', import.meta.url)`) or a file
   * path (relative to the working directory). TypeScript modules are loaded through tsx.
   */
  readonly module: URL | string;
  /** The name of the exported function, a {@link WorkerMapFunction}. */
  readonly export: string;
  /**
   * Worker threads.
   * @default 2
   */
  readonly concurrency?: number;
  /**
   * Elements sent to a worker per message. Larger chunks amortise messaging for cheap functions;
   * smaller ones balance uneven work. Elements and results must be structured-cloneable.
   * @default 64
   */
  readonly chunkSize?: number;
}

/** Chunks out per worker: one running, one queued so the worker never waits for the main thread. */
const CHUNKS_PER_WORKER = 2;

/** A chunk's results; after a failure, those of the elements before it, then the error. */
interface ChunkOutcome {
  readonly results: readonly unknown[];
  readonly failure: StratumError | undefined;
}

interface Call {
  /** The index of the chunk's first element, and its element count. */
  readonly start: number;
  readonly count: number;
  readonly resolve: (outcome: ChunkOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  /** Chunks sent and not answered yet, by seq, oldest first (a worker answers in order). */
  readonly calls: Map<number, Call>;
  /** The uncaught error the worker reported, given as the reason when it exits. */
  crash: Error | undefined;
  exited: boolean;
}

/** The module's `file:` URL, and how messages name the function: `parse.ts#parseRow`. */
function describeWorkerFunction(options: WorkerMapOptions): { href: string; label: string } {
  const { module } = options;
  const href =
    module instanceof URL ? module.href : module.startsWith('file:') ? module : pathToFileURL(resolve(module)).href;
  return { href, label: `mapInWorkers ${href.slice(href.lastIndexOf('/') + 1)}#${options.export}` };
}

/**
 * Workers running one module's function; `run` sends a chunk, `close` terminates them (idempotent).
 * Every chunk is settled by its worker: by the reply, or, when the worker exits first (crashed, or
 * terminated by `close`), by a rejection naming the chunk. A worker keeps the event loop alive
 * while it owes a reply or is being terminated, and only then.
 */
class MapWorkerPool {
  readonly #label: string;
  readonly #slots: Slot[];
  #nextSeq = 0;
  #failure: StratumError | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: { href: string; label: string; exportName: string; concurrency: number }) {
    this.#label = options.label;
    const data: MapWorkerData = { module: options.href, exportName: options.exportName };
    this.#slots = Array.from({ length: options.concurrency }, (_, index) => {
      const worker = startWorker(new URL('./map-worker.ts', import.meta.url), {
        name: `stratum-map-${index}`,
        workerData: data,
      });
      const slot: Slot = { index, worker, calls: new Map(), crash: undefined, exited: false };
      worker.unref();
      worker.on('message', (response: MapResponse) => this.#settle(slot, response));
      worker.on('messageerror', (error) => this.#lostReply(slot, error));
      worker.on('error', (error) => {
        slot.crash = error;
        this.#failure ??= new StratumError('INTERNAL', `${this.#label}: worker crashed: ${error.message}`, {
          cause: error,
        });
      });
      worker.on('exit', (code) => this.#exited(slot, code));
      return slot;
    });
  }

  /** Maps `items`, element `start` of the dataset first, on the least busy worker. */
  run(items: readonly unknown[], start: number): Promise<ChunkOutcome> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const live = this.#slots.filter((candidate) => !candidate.exited);
    if (this.#closing !== undefined || live.length === 0) {
      return Promise.reject(
        new StratumError('INTERNAL', `${this.#label}: ${chunkName(start, items.length)}: the workers are closed`),
      );
    }
    const slot = live.reduce((best, candidate) => (candidate.calls.size < best.calls.size ? candidate : best));
    const seq = this.#nextSeq++;
    try {
      slot.worker.postMessage({ seq, start, items } satisfies MapRequest);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return Promise.reject(
        new StratumError(
          'BAD_REQUEST',
          `${this.#label}: the elements from index ${start} cannot be sent to a worker (they must be structured-cloneable): ${reason}`,
          { cause: error, details: { index: start } },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      slot.calls.set(seq, { start, count: items.length, resolve, reject });
      this.#holdLoop(slot);
    });
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(
      this.#slots.map((slot) => {
        this.#holdLoop(slot);
        return slot.worker.terminate();
      }),
    ).then(() => undefined);
    return this.#closing;
  }

  /**
   * A worker keeps the event loop alive while it owes a reply (the caller awaits it, and nothing
   * else may be pending) or is being terminated (`close` awaits its exit); an idle one does not.
   */
  #holdLoop(slot: Slot): void {
    if (this.#closing !== undefined || slot.calls.size > 0) slot.worker.ref();
    else slot.worker.unref();
  }

  #settle(slot: Slot, response: MapResponse): void {
    const call = slot.calls.get(response.seq);
    if (call === undefined) return;
    slot.calls.delete(response.seq);
    this.#holdLoop(slot);
    const { results, failure } = response;
    call.resolve({ results, failure: failure === undefined ? undefined : this.#toError(failure) });
  }

  #toError(failure: MapFailure): StratumError {
    const where =
      failure.kind === 'load'
        ? 'cannot load the function'
        : failure.kind === 'send'
          ? `a result of the elements from index ${failure.index} cannot be sent back`
          : `element ${failure.index}`;
    const code: ErrorCode =
      failure.code !== undefined && Object.hasOwn(ERROR_CODES, failure.code)
        ? (failure.code as ErrorCode)
        : failure.kind === 'load'
          ? 'BAD_REQUEST'
          : 'INTERNAL';
    return new StratumError(code, `${this.#label}: ${where}: ${failure.message}`, {
      details: { index: failure.index, error: failure.name, stack: failure.stack },
    });
  }

  /** A reply that could not be deserialized: the worker answers in order, so it was its oldest chunk's. */
  #lostReply(slot: Slot, error: Error): void {
    const oldest = slot.calls.entries().next();
    if (oldest.done === true) return;
    const [seq, call] = oldest.value;
    slot.calls.delete(seq);
    this.#holdLoop(slot);
    call.reject(this.#chunkError(call, `the reply of worker ${slot.index} could not be read: ${error.message}`));
  }

  /**
   * The chunks of a worker gone before replying fail; after an unexpected exit so do the chunks
   * sent later, since the order of results could not be kept.
   */
  #exited(slot: Slot, code: number): void {
    slot.exited = true;
    const reason =
      this.#closing !== undefined
        ? 'was terminated (the iteration ended)'
        : slot.crash !== undefined
          ? `crashed (${slot.crash.message})`
          : `exited with code ${code}`;
    if (this.#closing === undefined) {
      this.#failure ??= new StratumError('INTERNAL', `${this.#label}: worker ${slot.index} ${reason}`, {
        cause: slot.crash,
      });
    }
    const calls = [...slot.calls.values()];
    slot.calls.clear();
    for (const call of calls) call.reject(this.#chunkError(call, `worker ${slot.index} ${reason} before replying`));
  }

  #chunkError(call: Call, what: string): StratumError {
    return new StratumError('INTERNAL', `${this.#label}: ${chunkName(call.start, call.count)}: ${what}`, {
      details: { index: call.start, count: call.count },
    });
  }
}

/** How messages name a chunk: its elements' indices. */
function chunkName(start: number, count: number): string {
  return count === 1 ? `element ${start}` : `elements ${start} to ${start + count - 1}`;
}

/**
 * Yields `fn(item, index)` for every element of `source`, in order, computing on worker threads.
 * Errors from a worker surface at the position of the element that caused them.
 */
export async function* workerMap<U>(
  source: AsyncIterable<unknown>,
  options: WorkerMapOptions & { readonly concurrency: number; readonly chunkSize: number },
): AsyncGenerator<U> {
  const { href, label } = describeWorkerFunction(options);
  // Started with the first chunk, so an empty source costs no threads.
  let pool: MapWorkerPool | undefined;
  const iterator = source[Symbol.asyncIterator]();
  const out: Promise<ChunkOutcome>[] = [];
  const maxOut = options.concurrency * CHUNKS_PER_WORKER;
  let exhausted = false;
  let next = 0;
  try {
    for (;;) {
      while (!exhausted && out.length < maxOut) {
        const chunk: unknown[] = [];
        while (chunk.length < options.chunkSize) {
          const result = await iterator.next();
          if (result.done === true) {
            exhausted = true;
            break;
          }
          chunk.push(result.value);
        }
        if (chunk.length === 0) break;
        pool ??= new MapWorkerPool({ href, label, exportName: options.export, concurrency: options.concurrency });
        const results = pool.run(chunk, next);
        // Awaited in order below; until then a rejection must not count as unhandled.
        results.catch(() => undefined);
        out.push(results);
        next += chunk.length;
      }
      const first = out.shift();
      if (first === undefined) return;
      const { results, failure } = await first;
      yield* results as readonly U[];
      if (failure !== undefined) throw failure;
    }
  } finally {
    try {
      if (!exhausted) await iterator.return?.();
    } finally {
      await pool?.close();
    }
  }
}
