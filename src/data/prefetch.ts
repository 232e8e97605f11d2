/**
 * Read-ahead: a producer pulls from the source while the consumer works, keeping up to `size`
 * elements ready. Order is preserved, an error is delivered after the elements that preceded it,
 * and an early exit stops the producer and closes the source.
 */

/** Yields the elements of `source` in order, reading up to `size` ahead of the consumer. */
export async function* prefetch<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const ready: T[] = [];
  let failure: { readonly error: unknown } | undefined;
  let exhausted = false;
  let finished = false;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;

  const wake = (which: 'consumer' | 'producer'): void => {
    const resolve = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    resolve?.();
  };

  const producer = (async () => {
    try {
      while (!stopped) {
        if (ready.length >= size) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
          continue;
        }
        const result = await iterator.next();
        if (result.done === true) {
          exhausted = true;
          break;
        }
        ready.push(result.value);
        wake('consumer');
      }
    } catch (error) {
      exhausted = true;
      failure = { error };
    } finally {
      finished = true;
      wake('consumer');
    }
  })();

  try {
    for (;;) {
      if (ready.length > 0) {
        const item = ready.shift() as T;
        wake('producer');
        yield item;
        continue;
      }
      if (failure !== undefined) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    wake('producer');
    await producer;
    if (!exhausted) await iterator.return?.();
  }
}
