/**
 * Interleaving in the manner of tf.data: `cycleLength` inner datasets are open at once and read
 * round-robin, `blockLength` elements at a time; an exhausted one is replaced by the next outer
 * element's. The order is deterministic.
 */

/** Options of {@link interleave}. */
export interface InterleaveGeneratorOptions<T, U> {
  /** Maps an outer element to its inner dataset. */
  readonly fn: (item: T) => AsyncIterable<U>;
  /** How many inner datasets are open at once. */
  readonly cycleLength: number;
  /** How many consecutive elements are taken from one inner dataset before moving on. */
  readonly blockLength: number;
}

/** Yields the elements of the inner datasets of `source`, interleaved. */
export async function* interleave<T, U>(
  source: AsyncIterable<T>,
  options: InterleaveGeneratorOptions<T, U>,
): AsyncGenerator<U> {
  const outer = source[Symbol.asyncIterator]();
  let outerDone = false;
  const slots: (AsyncIterator<U> | undefined)[] = [];

  const open = async (): Promise<AsyncIterator<U> | undefined> => {
    if (outerDone) return undefined;
    const next = await outer.next();
    if (next.done === true) {
      outerDone = true;
      return undefined;
    }
    return options.fn(next.value)[Symbol.asyncIterator]();
  };

  try {
    for (let i = 0; i < options.cycleLength; i++) slots.push(await open());
    let position = 0;
    while (slots.some((slot) => slot !== undefined)) {
      let inner = slots[position];
      let taken = 0;
      while (inner !== undefined && taken < options.blockLength) {
        const next = await inner.next();
        if (next.done === true) {
          // Refill the slot at once, as tf.data does, so the cycle keeps its width.
          inner = await open();
          slots[position] = inner;
          if (taken > 0) break;
          continue;
        }
        taken++;
        yield next.value;
      }
      position = (position + 1) % options.cycleLength;
    }
  } finally {
    const closing: Promise<unknown>[] = [];
    for (const slot of slots) if (slot?.return !== undefined) closing.push(slot.return());
    if (!outerDone && outer.return !== undefined) closing.push(outer.return());
    await Promise.all(closing);
  }
}
