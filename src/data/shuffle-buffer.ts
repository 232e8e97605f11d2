/**
 * Buffered shuffling in the manner of tf.data: a window of `bufferSize` elements, from which a
 * seeded generator picks the next one to emit. Memory is bounded by the buffer, not the dataset;
 * a buffer at least as large as the dataset gives a uniform shuffle.
 */

import { mulberry32 } from '../random/mulberry32.ts';

/** A generator of uniform numbers in [0, 1) for `seed` (the project's one seeded generator). */
export const seededRandom = mulberry32;

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
