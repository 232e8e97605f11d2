/**
 * A lazy, streaming dataset in the spirit of tf.data. A `Dataset` wraps a factory of async
 * iterables: nothing runs until it is iterated, and every iteration restarts from the source.
 * Operators return new datasets; memory is bounded by their buffers (batch, shuffle, prefetch),
 * never by the size of the data, except for `cache()`, which keeps what it has seen.
 */
import { StratumError } from '../errors/index.ts';
import { diskCache } from './disk-cache.ts';
import { interleave } from './interleave.ts';
import { prefetch } from './prefetch.ts';
import { shuffleBuffer } from './shuffle-buffer.ts';
import { type WorkerMapOptions, workerMap } from './worker-map.ts';

/** Anything that can be iterated asynchronously, or a dataset. */
export type DatasetSource<T> = () => AsyncIterable<T> | Iterable<T>;

/** Options of {@link Dataset.batch}. */
export interface BatchOptions {
  /**
   * Drop the last batch when it has fewer than `size` elements.
   * @default false
   */
  readonly dropRemainder?: boolean;
}

/** Options of {@link Dataset.shuffle}. */
export interface ShuffleOptions {
  /**
   * Use a new order on every iteration (seed + epoch, the epoch counting this dataset's
   * iterations from 0), as tf.data's `reshuffle_each_iteration`. With `false` every iteration
   * repeats the order of `seed`.
   * @default true
   */
  readonly reshuffleEachIteration?: boolean;
}

/** Options of {@link Dataset.cache}. */
export interface CacheOptions {
  /**
   * A file to cache to instead of memory. Elements must be structured-cloneable (`v8.serialize`);
   * an existing file is replayed as is, so name it after the source's version (`datasetVersion`)
   * to rebuild the cache when the data changes.
   * @default undefined (memory)
   */
  readonly path?: string;
}

/** Options of {@link Dataset.interleave}. */
export interface InterleaveOptions {
  /** How many inner datasets are read at once. */
  readonly cycleLength: number;
  /**
   * How many consecutive elements are taken from one inner dataset before moving to the next.
   * @default 1
   */
  readonly blockLength?: number;
}

function badArgument(message: string): StratumError {
  return new StratumError('BAD_REQUEST', message);
}

function requireInteger(name: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw badArgument(`${name}: expected an integer >= ${minimum}, got ${String(value)}`);
  }
}

function toAsyncIterable<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  if (Symbol.asyncIterator in items) return items;
  return (async function* () {
    yield* items;
  })();
}

/**
 * A lazy sequence of elements, read from its source afresh on each iteration.
 *
 * @example
 * ```ts
 * const batches = csvDataset('flights.csv')
 *   .filter((row) => row.delay !== null)
 *   .shuffle(10_000, 42)
 *   .batch(256)
 *   .prefetch(2);
 * for await (const batch of batches) train(batch);
 * ```
 */
export class Dataset<T> implements AsyncIterable<T> {
  readonly #source: DatasetSource<T>;

  /** Wraps `source`, a factory called once per iteration. */
  constructor(source: DatasetSource<T>) {
    this.#source = source;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return toAsyncIterable(this.#source())[Symbol.asyncIterator]();
  }

  /** Applies `fn` to every element, in order (see {@link Dataset.mapInWorkers} for CPU-heavy work). */
  map<U>(fn: (item: T, index: number) => U | Promise<U>): Dataset<U> {
    return this.#derive(async function* (source) {
      let index = 0;
      for await (const item of source) yield await fn(item, index++);
    });
  }

  /**
   * Applies a function exported by a module to every element on worker threads, for CPU-heavy
   * maps. The result is the same, in the same order, as `map` with that function (it receives the
   * element and its index). Elements and results must be structured-cloneable; at most
   * `concurrency × 2` chunks are out at once, so a slow consumer slows the reading of the source.
   * Workers start with each iteration and are terminated when it ends, early or not. An error
   * thrown by the function is a StratumError naming the module, the export and the element's
   * index, with the thrown StratumError's code or else INTERNAL.
   *
   * @example
   * ```ts
   * // parse.ts: export function parseRow(line: string): Row { … }
   * const rows = lines.mapInWorkers<Row>({ module: new URL('./parse.ts', import.meta.url), export: 'parseRow' });
   * ```
   */
  mapInWorkers<U>(options: WorkerMapOptions): Dataset<U> {
    const concurrency = options.concurrency ?? 2;
    const chunkSize = options.chunkSize ?? 64;
    requireInteger('mapInWorkers concurrency', concurrency, 1);
    requireInteger('mapInWorkers chunkSize', chunkSize, 1);
    if (options.export === '') throw badArgument('mapInWorkers export: expected the name of an exported function');
    return this.#derive((source) => workerMap<U>(source, { ...options, concurrency, chunkSize }));
  }

  /** Keeps the elements for which `predicate` is true. */
  filter<S extends T>(predicate: (item: T, index: number) => item is S): Dataset<S>;
  filter(predicate: (item: T, index: number) => boolean | Promise<boolean>): Dataset<T>;
  filter(predicate: (item: T, index: number) => boolean | Promise<boolean>): Dataset<T> {
    return this.#derive(async function* (source) {
      let index = 0;
      for await (const item of source) if (await predicate(item, index++)) yield item;
    });
  }

  /** Groups consecutive elements into arrays of `size` (the last one may be shorter). */
  batch(size: number, options: BatchOptions = {}): Dataset<T[]> {
    requireInteger('batch size', size, 1);
    const dropRemainder = options.dropRemainder ?? false;
    return this.#derive(async function* (source) {
      let current: T[] = [];
      for await (const item of source) {
        current.push(item);
        if (current.length === size) {
          yield current;
          current = [];
        }
      }
      if (current.length > 0 && !dropRemainder) yield current;
    });
  }

  /**
   * Shuffles through a buffer of `bufferSize` elements with a seeded generator: the same seed gives
   * the same order. A buffer at least the dataset's size gives a uniform shuffle.
   */
  shuffle(bufferSize: number, seed: number, options: ShuffleOptions = {}): Dataset<T> {
    requireInteger('shuffle buffer size', bufferSize, 1);
    if (!Number.isSafeInteger(seed)) throw badArgument(`shuffle seed: expected an integer, got ${String(seed)}`);
    const reshuffle = options.reshuffleEachIteration ?? true;
    let epoch = 0;
    return this.#derive((source) => shuffleBuffer(source, { bufferSize, seed: reshuffle ? seed + epoch++ : seed }));
  }

  /** Reads up to `size` elements ahead of the consumer, overlapping production and consumption. */
  prefetch(size: number): Dataset<T> {
    requireInteger('prefetch size', size, 1);
    return this.#derive((source) => prefetch(source, size));
  }

  /**
   * Keeps the elements, in memory or in a file (`path`): the first complete iteration reads the
   * source and fills the cache, later ones replay it without reading. An iteration left early
   * caches nothing. In memory, the cache holds the whole dataset.
   */
  cache(options: CacheOptions = {}): Dataset<T> {
    const { path } = options;
    if (path !== undefined) return this.#derive((source) => diskCache(source, path));
    let cached: readonly T[] | undefined;
    return this.#derive(async function* (source) {
      if (cached !== undefined) {
        yield* cached;
        return;
      }
      const filling: T[] = [];
      for await (const item of source) {
        filling.push(item);
        yield item;
      }
      cached = filling;
    });
  }

  /** Keeps every `count`-th element starting at `index`: shards 0…count-1 partition the dataset. */
  shard(count: number, index: number): Dataset<T> {
    requireInteger('shard count', count, 1);
    requireInteger('shard index', index, 0);
    if (index >= count) throw badArgument(`shard index: expected 0 … ${count - 1}, got ${index}`);
    return this.#derive(async function* (source) {
      let position = 0;
      for await (const item of source) if (position++ % count === index) yield item;
    });
  }

  /** The first `count` elements; the source is closed as soon as they have been read. */
  take(count: number): Dataset<T> {
    requireInteger('take count', count, 0);
    return this.#derive(async function* (source) {
      if (count === 0) return;
      let taken = 0;
      for await (const item of source) {
        yield item;
        if (++taken >= count) return;
      }
    });
  }

  /** All but the first `count` elements. */
  skip(count: number): Dataset<T> {
    requireInteger('skip count', count, 0);
    return this.#derive(async function* (source) {
      let skipped = 0;
      for await (const item of source) {
        if (skipped < count) skipped++;
        else yield item;
      }
    });
  }

  /**
   * Iterates the dataset `times` times, restarting the source each time; forever when `times` is
   * omitted (an empty dataset then ends at once instead of looping).
   */
  repeat(times?: number): Dataset<T> {
    if (times !== undefined) requireInteger('repeat times', times, 0);
    const limit = times ?? Number.POSITIVE_INFINITY;
    return this.#derive(async function* (source) {
      for (let epoch = 0; epoch < limit; epoch++) {
        let seen = false;
        for await (const item of source) {
          seen = true;
          yield item;
        }
        if (!seen) return;
      }
    });
  }

  /**
   * Maps each element to a dataset and interleaves them: `cycleLength` are read at once,
   * round-robin, `blockLength` elements at a time. Deterministic.
   */
  interleave<U>(fn: (item: T) => AsyncIterable<U>, options: InterleaveOptions): Dataset<U> {
    requireInteger('interleave cycleLength', options.cycleLength, 1);
    const blockLength = options.blockLength ?? 1;
    requireInteger('interleave blockLength', blockLength, 1);
    return new Dataset(() => interleave(this, { fn, cycleLength: options.cycleLength, blockLength }));
  }

  /** Reads every element into an array. */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }

  /** Calls `fn` on every element in order, awaiting each call. */
  async forEach(fn: (item: T, index: number) => void | Promise<void>): Promise<void> {
    let index = 0;
    for await (const item of this) await fn(item, index++);
  }

  /** Counts the elements (reading all of them). */
  async count(): Promise<number> {
    const iterator = this[Symbol.asyncIterator]();
    let total = 0;
    while ((await iterator.next()).done !== true) total++;
    return total;
  }

  #derive<U>(operator: (source: AsyncIterable<T>) => AsyncIterable<U>): Dataset<U> {
    return new Dataset(() => operator(this));
  }
}
