/**
 * Buffered shuffling in the manner of tf.data: a window of `bufferSize` elements, from which a
 * seeded generator picks the next one to emit. Memory is bounded by the buffer, not the dataset;
 * a buffer at least as large as the dataset gives a uniform shuffle.
 */

/**
 * Returns a generator of uniform numbers in [0, 1) for `seed`. mulberry32 uses only 32-bit integer
 * arithmetic, which JS engines evaluate identically, so an order is the same on every machine.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link shuffleBuffer}. */
export interface ShuffleBufferOptions {
  /** How many elements are held at once (at least 1). */
  readonly bufferSize: number;
  /** The seed of this pass's order. */
  readonly seed: number;
}

/** Yields the elements of `source` in a seeded, buffer-bounded random order. */
export async function* shuffleBuffer<T>(source: AsyncIterable<T>, options: ShuffleBufferOptions): AsyncGenerator<T> {
  const random = seededRandom(options.seed);
  const buffer: T[] = [];
  for await (const item of source) {
    if (buffer.length < options.bufferSize) {
      buffer.push(item);
      continue;
    }
    // Emit a random resident and put the newcomer in its slot.
    const index = Math.floor(random() * buffer.length);
    const chosen = buffer[index] as T;
    buffer[index] = item;
    yield chosen;
  }
  while (buffer.length > 0) {
    const index = Math.floor(random() * buffer.length);
    const chosen = buffer[index] as T;
    buffer[index] = buffer[buffer.length - 1] as T;
    buffer.pop();
    yield chosen;
  }
}
