/**
 * Sorts a Float64Array ascending in place with an LSD radix sort on the IEEE-754 bits (four
 * 16-bit passes): on Node 20 `TypedArray.prototype.sort` compares element by element and takes
 * about ten times longer on a million numbers, which is most of a drift computation. Finite
 * numbers only (the window's values are filtered before); −0 sorts before +0, as with `sort()`.
 */

/** Below this many values the built-in sort is faster than the passes' fixed cost. */
const RADIX_FROM = 4096;
const DIGITS = 1 << 16;

/** Sorts `values` in place and returns it. */
export function sortNumbers(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_FROM) return values.sort();
  // Little-endian words: [2i] the low half, [2i + 1] the high half (with the sign bit).
  let src: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // Order-preserving keys: negative numbers have every bit flipped, positive ones the sign bit.
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1] as number;
    if (hi >>> 31 === 1) {
      src[2 * i] = ~(src[2 * i] as number) >>> 0;
      src[2 * i + 1] = ~hi >>> 0;
    } else {
      src[2 * i + 1] = (hi | 0x80000000) >>> 0;
    }
  }
  let dst: Uint32Array = new Uint32Array(n * 2);
  const counts = new Uint32Array(DIGITS);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const digit = ((src[2 * i + word] as number) >>> shift) & 0xffff;
      counts[digit] = (counts[digit] as number) + 1;
    }
    let sum = 0;
    for (let d = 0; d < DIGITS; d++) {
      const c = counts[d] as number;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i] as number;
      const hi = src[2 * i + 1] as number;
      const digit = ((word === 0 ? lo : hi) >>> shift) & 0xffff;
      const at = counts[digit] as number;
      counts[digit] = at + 1;
      dst[2 * at] = lo;
      dst[2 * at + 1] = hi;
    }
    [src, dst] = [dst, src];
  }
  // After four passes the sorted keys are back in `values`' own buffer; undo the key transform.
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1] as number;
    if (hi >>> 31 === 1) {
      src[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    } else {
      src[2 * i] = ~(src[2 * i] as number) >>> 0;
      src[2 * i + 1] = ~hi >>> 0;
    }
  }
  return values;
}
