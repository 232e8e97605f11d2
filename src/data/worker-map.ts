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
import { ERROR_CODES, type ErrorCode, StratumError } from '../errors/index.ts';
import {
  createWorkerPool,
  describeEnd,
  describeLoss,
  type LossWords,
  type WorkerPool,
} from '../runtime/worker-pool.ts';
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

/** The module's `file:` URL, and how messages name the function: `parse.ts#parseRow`. */
function describeWorkerFunction(options: WorkerMapOptions): { href: string; label: string } {
  const { module } = options;
  const href =
    module instanceof URL ? module.href : module.startsWith('file:') ? module : pathToFileURL(resolve(module)).href;
  return { href, label: `mapInWorkers ${href.slice(href.lastIndexOf('/') + 1)}#${options.export}` };
}

/** How error messages name the workers and why they were terminated. */
const WORDS: LossWords = { worker: 'worker', closedBecause: 'the iteration ended' };

/**
 * Workers running one module's function, on the shared worker pool: `run` sends a chunk to the
 * least busy worker, `close` terminates them (idempotent). Every chunk is settled by its worker:
 * by the reply, or, when the worker exits first (crashed, or terminated by `close`), by a
 * rejection naming the chunk. A worker keeps the event loop alive while it owes a reply or is
 * being terminated, and only then. After a worker ends unasked, later chunks fail too, since the
 * order of results could not be kept.
 */
class MapWorkerPool {
  readonly #label: string;
  readonly #pool: WorkerPool<MapRequest, MapResponse>;
  #failure: StratumError | undefined;

  constructor(options: { href: string; label: string; exportName: string; concurrency: number }) {
    const label = options.label;
    this.#label = label;
    const data: MapWorkerData = { module: options.href, exportName: options.exportName };
    this.#pool = createWorkerPool({
      entry: new URL('./map-worker.ts', import.meta.url),
      size: options.concurrency,
      name: 'stratum-map',
      workerData: () => data,
      keepAlive: 'while-busy',
      lostError: (request, loss) => {
        if (loss.kind === 'unsendable') {
          const reason = loss.error instanceof Error ? loss.error.message : String(loss.error);
          return new StratumError(
            'BAD_REQUEST',
            `${label}: the elements from index ${request.start} cannot be sent to a worker (they must be structured-cloneable): ${reason}`,
            { cause: loss.error, details: { index: request.start } },
          );
        }
        const chunk = chunkName(request.start, request.items.length);
        return new StratumError('INTERNAL', `${label}: ${chunk}: ${describeLoss(loss, WORDS)}`, {
          details: { index: request.start, count: request.items.length },
        });
      },
      onExit: (end) => {
        if (end.closing) return;
        this.#failure ??= new StratumError('INTERNAL', `${label}: ${describeEnd(end, WORDS)}`, { cause: end.crash });
      },
    });
  }

  /** Maps `items`, element `start` of the dataset first, on the least busy worker. */
  async run(items: readonly unknown[], start: number): Promise<ChunkOutcome> {
    if (this.#failure !== undefined) throw this.#failure;
    const { results, failure } = await this.#pool.request('least-busy', { id: this.#pool.nextId(), start, items });
    return { results, failure: failure === undefined ? undefined : this.#toError(failure) };
  }

  close(): Promise<void> {
    return this.#pool.close();
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
