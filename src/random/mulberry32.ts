/**
 * The one seeded pseudo-random generator of the project (fixture weights, shuffles, subsampling),
 * so that an order or a model is the same for a seed on every machine and run: mulberry32 uses
 * only 32-bit integer arithmetic, which JavaScript engines evaluate identically.
 */

/**
 * Returns a generator of uniform numbers in [0, 1) for `seed`.
 *
 * @example
 * ```ts
 * const next = mulberry32(42);
 * const coin = next() < 0.5;
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
