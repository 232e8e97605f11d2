/** In-memory datasets. */
import { Dataset } from './dataset.ts';

/**
 * A dataset over `items`. The array is referenced, not copied: each iteration reads it as it is.
 *
 * @example
 * ```ts
 * const evens = await fromArray([1, 2, 3, 4]).filter((n) => n % 2 === 0).toArray(); // [2, 4]
 * ```
 */
export function fromArray<T>(items: readonly T[]): Dataset<T> {
  return new Dataset(() => items);
}
