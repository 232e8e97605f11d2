/**
 * The fast path of the numeric CSV reader: a decimal number read straight from bytes, with the
 * value `Number(text)` would give. Only the shapes whose value one IEEE operation computes exactly
 * are taken (Clinger's fast path: at most 15 significant digits, so the integer mantissa is exact,
 * and a power of ten up to 1e22, so the scale is exact; one multiply or divide then rounds
 * correctly). Everything else (more digits, large exponents, `Infinity`, hex, blanks) is left to
 * the caller, which falls back to `Number()` on the field's text.
 */

const ZERO = 0x30;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const LOWER_E = 0x65;

/** Significant digits below 10^15 < 2^53: the mantissa is an exact integer in a double. */
const MAX_DIGITS = 15;

/** 1e0 … 1e22, every one exact in a double. */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Returned by {@link scanNumber} when the text is not a shape the fast path computes exactly. */
export const NOT_FAST = -1;

/** Where {@link scanNumber} reads and writes. */
export interface ScanTarget {
  /** The bytes. */
  readonly bytes: Uint8Array;
  /**
   * Where the value goes (replaced when a batch fills up). A Float64Array keeps the double, which
   * the tests compare with `Number(text)`.
   */
  out: Float32Array | Float64Array;
  /** The position in `out` of the value being read. */
  index: number;
}

/**
 * Reads `[+-]digits[.digits][(e|E)[+-]digits]` from `bytes[start]` (not past `limit`), stores the
 * value in `out[index]` (a float32, so rounded from the exact double) and returns the position
 * after the number, or {@link NOT_FAST}. The caller checks that the number ends the field.
 */
export function scanNumber(target: ScanTarget, start: number, limit: number): number {
  const bytes = target.bytes;
  let p = start;
  let negative = false;
  if (p < limit) {
    const sign = bytes[p];
    if (sign === MINUS) {
      negative = true;
      p++;
    } else if (sign === PLUS) {
      p++;
    }
  }
  // Digits accumulate in a small integer (cheap integer arithmetic), folded into the double
  // `mantissa` every 9 digits; below 10^15 every step is exact.
  let mantissa = 0;
  let chunk = 0;
  let chunkDigits = 0;
  let significant = 0;
  let zeros = 0;
  let scale = 0;
  while (p < limit && bytes[p] === ZERO) {
    p++;
    zeros++;
  }
  for (; p < limit; p++) {
    const d = bytes[p]! - ZERO;
    if (d < 0 || d > 9) break;
    significant++;
    chunk = chunk * 10 + d;
    if (++chunkDigits === 9) {
      mantissa = mantissa * 1e9 + chunk;
      chunk = 0;
      chunkDigits = 0;
    }
  }
  if (p < limit && bytes[p] === DOT) {
    p++;
    if (significant === 0) {
      while (p < limit && bytes[p] === ZERO) {
        p++;
        zeros++;
        scale--;
      }
    }
    for (; p < limit; p++) {
      const d = bytes[p]! - ZERO;
      if (d < 0 || d > 9) break;
      significant++;
      scale--;
      chunk = chunk * 10 + d;
      if (++chunkDigits === 9) {
        mantissa = mantissa * 1e9 + chunk;
        chunk = 0;
        chunkDigits = 0;
      }
    }
  }
  if (significant + zeros === 0 || significant > MAX_DIGITS) return NOT_FAST;
  mantissa = mantissa * POWERS_OF_TEN[chunkDigits]! + chunk;
  if (p < limit && (bytes[p]! | 0x20) === LOWER_E) {
    p++;
    let exponentNegative = false;
    if (p < limit) {
      const sign = bytes[p];
      if (sign === MINUS) {
        exponentNegative = true;
        p++;
      } else if (sign === PLUS) {
        p++;
      }
    }
    let exponent = 0;
    let exponentDigits = 0;
    for (; p < limit; p++) {
      const d = bytes[p]! - ZERO;
      if (d < 0 || d > 9) break;
      exponentDigits++;
      // Capped: any exponent this large is outside the fast path anyway.
      if (exponent < 100_000) exponent = exponent * 10 + d;
    }
    if (exponentDigits === 0) return NOT_FAST;
    scale += exponentNegative ? -exponent : exponent;
  }
  let value: number;
  if (mantissa === 0) value = 0;
  else if (scale >= 0) {
    if (scale > 22) return NOT_FAST;
    value = mantissa * POWERS_OF_TEN[scale]!;
  } else {
    if (scale < -22) return NOT_FAST;
    value = mantissa / POWERS_OF_TEN[-scale]!;
  }
  target.out[target.index] = negative ? -value : value;
  return p;
}
