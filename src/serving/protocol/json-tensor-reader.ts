/**
 * Reads an inference request's JSON straight from the body's bytes, putting the numbers of every
 * `"data"` array into one Float64Array instead of a JS array of boxed numbers.
 *
 * `JSON.parse` builds a JS array per `data` member (a heap number per element for fractions)
 * that the decoder then walks and copies into a typed array: for 8,192 floats that is ≈ 1.7 ms of
 * the event loop. This reader scans the bytes once.
 *
 * The contract is `JSON.parse`'s: on any input it either returns what `JSON.parse` returns (with
 * numeric `data` arrays as {@link NumericData}, whose values are the numbers `JSON.parse` reads)
 * or throws what `JSON.parse` throws. It does so by reading only what it knows and handing the
 * whole text to `JSON.parse` the moment it meets anything else — invalid JSON included, so the
 * messages are `JSON.parse`'s own. test/serving/json-tensor-reader.test.ts fuzzes the equivalence.
 */

/**
 * A `data` array of numbers only (flat or nested), read row-major into one typed array.
 *
 * Numbers with more significant digits than a double holds exactly (float32 values printed in
 * full have 17) are read approximately here, within a few units in the last place. {@link float32}
 * is exact regardless: the reader re-reads the rare number whose approximation could round to
 * another float32. {@link exact} reads the whole array again with `JSON.parse` when any number
 * was approximate (FP64 and integer tensors sent with more than 15 digits: the plain path's cost).
 */
export class NumericData {
  private fixed: boolean;
  private readonly values: Float64Array;
  private readonly read: NumericRead;

  /** @internal Made by the reader. */
  constructor(values: Float64Array, read: NumericRead) {
    this.values = values;
    this.read = read;
    this.fixed = !read.approximate;
  }

  get length(): number {
    return this.values.length;
  }

  /** The numbers exactly as `JSON.parse` reads each. */
  exact(): Float64Array {
    if (!this.fixed) {
      const { text, start, end } = this.read;
      flattenInto(JSON.parse(text.toString('latin1', start, end)) as unknown[], this.values, 0);
      this.fixed = true;
    }
    return this.values;
  }

  /** The numbers rounded to float32: what `new Float32Array(this.exact())` gives. */
  float32(): Float32Array {
    const out = new Float32Array(this.values);
    if (this.fixed) return out;
    const { ambiguous, text } = this.read;
    for (let k = 0; k < ambiguous.length; k += 3) {
      out[ambiguous[k]!] = Number(text.toString('latin1', ambiguous[k + 1], ambiguous[k + 2]));
    }
    return out;
  }
}

/** Where a NumericData came from in the text, and what of it was read approximately. */
interface NumericRead {
  readonly text: Buffer;
  /** The array's bytes in `text`, brackets included. */
  readonly start: number;
  readonly end: number;
  /** Whether any number was read approximately. */
  readonly approximate: boolean;
  /** (index, start, end) of each approximate number that might round to another float32. */
  readonly ambiguous: Int32Array;
}

/** Writes the numbers of a (nested) array row-major into `out` from `index`; returns the next index. */
function flattenInto(array: unknown[], out: Float64Array, index: number): number {
  for (const item of array) {
    if (Array.isArray(item)) index = flattenInto(item, out, index);
    else out[index++] = item as number;
  }
  return index;
}

// A mantissa of up to 19 digits joined from nine-digit chunks (≤ 6 roundings of ½ ulp) and one
// scaling (½ ulp): a relative error well under 8 ulps of a double.
const APPROXIMATION_ERROR = 8 * 2 ** -52;

/** Thrown inside the reader when it meets what it leaves to `JSON.parse`. */
class HandOver extends Error {}
const HAND_OVER = new HandOver();

// As the tensor decoder (tensor-json.ts): `data` nested deeper is refused there, with its message.
const MAX_TENSOR_NESTING = 32;
// Nesting beyond this goes to JSON.parse (no deep recursion here); tensors nest ≤ 32 levels.
const MAX_DEPTH = 64;
const MAX_EXACT_INTEGER = 2 ** 53;
// 10^k is an exact double for k ≤ 22 (Clinger's fast path).
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/**
 * Parses `bytes` (UTF-8 JSON) as `JSON.parse(bytes.toString('utf8'))` would, with numeric `data`
 * arrays as {@link NumericData}.
 * @throws SyntaxError as `JSON.parse` does.
 */
export function readInferJson(bytes: Uint8Array): unknown {
  try {
    return new Reader(bytes).document();
  } catch (error) {
    if (error !== HAND_OVER) throw error;
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  }
}

const NO_NUMBERS = new Float64Array(0);
const NO_AMBIGUOUS = new Int32Array(0);

class Reader {
  private pos = 0;
  // Grown on the first number: a binary request's header has none, and allocating these buffers
  // for every request cost ≈ 4% of the main thread (issue 14).
  private scratch = NO_NUMBERS;
  private ambiguous = NO_AMBIGUOUS;
  private ambiguousCount = 0;
  private anyApproximate = false;
  private dataStart = 0;
  private lastExact = true;
  private readonly text: Buffer;

  private readonly bytes: Uint8Array;
  private readonly words: DataView;

  constructor(source: Uint8Array) {
    // A plain Uint8Array view: V8 reads a Buffer's elements more slowly in these loops.
    this.bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    this.words = new DataView(source.buffer, source.byteOffset, source.byteLength);
    this.text = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }

  document(): unknown {
    const value = this.value(0);
    this.skipWhitespace();
    if (this.pos !== this.bytes.length) throw HAND_OVER;
    return value;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw HAND_OVER;
    this.skipWhitespace();
    const c = this.bytes[this.pos];
    if (c === OPEN_BRACE) return this.object(depth);
    if (c === OPEN_BRACKET) return this.array(depth);
    if (c === QUOTE) return this.string();
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) return this.number();
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    throw HAND_OVER;
  }

  private object(depth: number): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.bytes[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.bytes[this.pos] !== QUOTE) throw HAND_OVER;
      const key = this.string();
      this.skipWhitespace();
      if (this.bytes[this.pos] !== COLON) throw HAND_OVER;
      this.pos++;
      const value = key === 'data' ? this.dataValue(depth + 1) : this.value(depth + 1);
      // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = value;
      }
      this.skipWhitespace();
      const c = this.bytes[this.pos++];
      if (c === COMMA) continue;
      if (c === CLOSE_BRACE) return out;
      throw HAND_OVER;
    }
  }

  private array(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.bytes[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.skipWhitespace();
      const c = this.bytes[this.pos++];
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) return out;
      throw HAND_OVER;
    }
  }

  /**
   * A `data` member: an array holding numbers and arrays of numbers only becomes NumericData;
   * anything else (strings, booleans, null, objects, or not an array) is read as plain JSON.
   */
  private dataValue(depth: number): unknown {
    this.skipWhitespace();
    if (this.bytes[this.pos] !== OPEN_BRACKET) return this.value(depth);
    const start = this.pos;
    this.dataStart = start;
    this.ambiguousCount = 0;
    this.anyApproximate = false;
    const count = this.numericArray(depth, 0, 0);
    if (count < 0) {
      this.pos = start;
      return this.value(depth);
    }
    // Views, not copies: the rest of the scratch buffers is left for the next `data` array.
    const values = this.scratch.subarray(0, count);
    this.scratch = this.scratch.subarray(count);
    const ambiguous = this.ambiguous.subarray(0, this.ambiguousCount);
    this.ambiguous = this.ambiguous.subarray(this.ambiguousCount);
    return new NumericData(values, {
      text: this.text,
      start,
      end: this.pos,
      approximate: this.anyApproximate,
      ambiguous,
    });
  }

  /**
   * Reads a (nested) array of numbers into the scratch buffer from index `count`; returns the new
   * count, or -1 when the array holds anything but numbers and arrays, or is shaped in a way the
   * tensor decoder refuses (those go the plain way, to its messages): nested more than
   * MAX_TENSOR_NESTING levels, or flat at the top (a number first) with an array further on.
   */
  private numericArray(depth: number, count: number, level: number): number {
    if (depth > MAX_DEPTH || level > MAX_TENSOR_NESTING) return -1;
    // The per-element loop keeps its position in a local and reads bytes directly: one call per
    // number (readApproximate), none for separators and whitespace.
    const bytes = this.bytes;
    let flat = false;
    let i = this.pos + 1; // [
    let c = bytes[i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i];
    if (c === CLOSE_BRACKET) {
      this.pos = i + 1;
      return count;
    }
    for (;;) {
      if (c === OPEN_BRACKET) {
        if (flat) return -1;
        this.pos = i;
        count = this.numericArray(depth + 1, count, level + 1);
        if (count < 0) return -1;
        i = this.pos;
      } else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) {
        if (level === 0 && count === 0) flat = true;
        if (count === this.scratch.length) this.growScratch(count, i);
        this.pos = i;
        const value = this.readApproximate();
        if (!this.lastExact) this.noteApproximate(count, i, value);
        this.scratch[count++] = value;
        i = this.pos;
      } else {
        return -1;
      }
      c = bytes[i];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i];
      if (c === COMMA) {
        c = bytes[++i];
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i];
        continue;
      }
      if (c === CLOSE_BRACKET) {
        this.pos = i + 1;
        return count;
      }
      throw HAND_OVER;
    }
  }

  /**
   * Makes room for more numbers. After the first 64 of an array the size is estimated from the
   * bytes each number took so far and the bytes left, so that a large tensor is grown (and copied)
   * about once, and a 64 KB buffer is not zero-filled for a 784-element one.
   */
  private growScratch(count: number, pos: number): void {
    let size = 64;
    if (count > 0) {
      const bytesPerNumber = (pos - this.dataStart) / count;
      const estimate = count + Math.ceil(((this.bytes.length - pos) / bytesPerNumber) * 1.1) + 16;
      size = Math.max(estimate, Math.ceil(count * 1.25));
    }
    const grown = new Float64Array(size);
    grown.set(this.scratch.subarray(0, count));
    this.scratch = grown;
  }

  /** Notes an approximate number; one that might round to another float32 is kept for re-reading. */
  private noteApproximate(index: number, start: number, value: number): void {
    this.anyApproximate = true;
    // Every value within the approximation's error rounds to one float32: it is the answer.
    if (Math.fround(value * (1 - APPROXIMATION_ERROR)) === Math.fround(value * (1 + APPROXIMATION_ERROR))) return;
    if (this.ambiguousCount + 3 > this.ambiguous.length) {
      const grown = new Int32Array(Math.max(96, this.ambiguous.length * 2));
      grown.set(this.ambiguous);
      this.ambiguous = grown;
    }
    const a = this.ambiguous;
    a[this.ambiguousCount++] = index;
    a[this.ambiguousCount++] = start;
    a[this.ambiguousCount++] = this.pos;
  }

  /** A number by JSON's grammar, exactly as JSON.parse reads it. */
  private number(): number {
    const start = this.pos;
    const value = this.readApproximate();
    return this.lastExact ? value : Number(this.text.toString('latin1', start, this.pos));
  }

  /**
   * A number by JSON's grammar. Exact when its digits fit a double's integer range and its
   * decimal exponent is within ±22 (Clinger's fast path: one correctly rounded operation on two
   * exact doubles); approximate (lastExact false) when only the digits overflow, up to 19;
   * otherwise read exactly by Number().
   */
  private readApproximate(): number {
    const bytes = this.bytes;
    const end = bytes.length;
    const start = this.pos;
    let i = start;
    const negative = bytes[i] === MINUS;
    if (negative) i++;
    // Digits gather nine at a time in a small integer (one-cycle integer steps), then join the
    // double mantissa: mantissa * 10^9 + chunk.
    let mantissa = 0;
    let chunk = 0;
    let chunkDigits = 0;
    let digits = 0; // significant digits, from the first non-zero one
    let scale = 0;
    let d = i < end ? bytes[i]! - ZERO : -1;
    if (d === 0) {
      d = ++i < end ? bytes[i]! - ZERO : -1;
    } else if (d > 0 && d <= 9) {
      do {
        chunk = chunk * 10 + d;
        digits++;
        if (++chunkDigits === 9) {
          mantissa = mantissa * 1e9 + chunk;
          chunk = 0;
          chunkDigits = 0;
        }
        d = ++i < end ? bytes[i]! - ZERO : -1;
      } while (d >>> 0 <= 9);
    } else {
      throw HAND_OVER;
    }
    if (d === DOT - ZERO) {
      d = ++i < end ? bytes[i]! - ZERO : -1;
      if (d >>> 0 > 9) throw HAND_OVER;
      const words = this.words;
      do {
        // Four digits at once when the next four bytes are all digits (SWAR in one 32-bit word,
        // first digit in the low byte) and the chunk has room for them (≤ 9 digits).
        if (digits > 0 && chunkDigits <= 5 && i + 4 <= end) {
          const w = words.getUint32(i, true);
          if (((w & 0xf0f0f0f0) | (((w + 0x06060606) & 0xf0f0f0f0) >>> 4)) === 0x33333333) {
            const t = w - 0x30303030; // bytes d0 d1 d2 d3, each 0–9
            const pairs = t * 10 + (t >>> 8); // byte 0: d0d1, byte 2: d2d3
            chunk = chunk * 10_000 + (pairs & 0xff) * 100 + ((pairs >>> 16) & 0xff);
            digits += 4;
            scale -= 4;
            chunkDigits += 4;
            if (chunkDigits === 9) {
              mantissa = mantissa * 1e9 + chunk;
              chunk = 0;
              chunkDigits = 0;
            }
            i += 4;
            d = i < end ? bytes[i]! - ZERO : -1;
            continue;
          }
        }
        scale--;
        if (digits > 0 || d !== 0) {
          chunk = chunk * 10 + d;
          digits++;
          if (++chunkDigits === 9) {
            mantissa = mantissa * 1e9 + chunk;
            chunk = 0;
            chunkDigits = 0;
          }
        }
        d = ++i < end ? bytes[i]! - ZERO : -1;
      } while (d >>> 0 <= 9);
    }
    if (d === LOWER_E - ZERO || d === UPPER_E - ZERO) {
      let c = ++i < end ? bytes[i] : undefined;
      let exponentNegative = false;
      if (c === PLUS || c === MINUS) {
        exponentNegative = c === MINUS;
        c = ++i < end ? bytes[i] : undefined;
      }
      if (c === undefined || c < ZERO || c > NINE) throw HAND_OVER;
      let exponent = 0;
      while (c !== undefined && c >= ZERO && c <= NINE) {
        if (exponent < 100_000) exponent = exponent * 10 + (c - ZERO);
        c = ++i < end ? bytes[i] : undefined;
      }
      scale += exponentNegative ? -exponent : exponent;
    }
    this.pos = i;
    if (digits <= 19 && scale >= -22 && scale <= 22) {
      mantissa = mantissa * EXACT_POWERS[chunkDigits]! + chunk;
      // Up to 2^53 every step above is exact (rounding is monotone, so a computed mantissa below
      // 2^53 is the true one), and one multiplication or division of two exact doubles is
      // correctly rounded: the value JSON.parse gives. Beyond, it is within a few ulps.
      this.lastExact = mantissa < MAX_EXACT_INTEGER;
      const magnitude = scale >= 0 ? mantissa * EXACT_POWERS[scale]! : mantissa / EXACT_POWERS[-scale]!;
      return negative ? -magnitude : magnitude;
    }
    this.lastExact = true;
    // The grammar is checked above, so Number() reads the text as JSON.parse would.
    return Number(this.text.toString('latin1', start, i));
  }

  /** A string; escapes and anything unusual are left to JSON.parse of the string alone. */
  private string(): string {
    const bytes = this.bytes;
    const start = ++this.pos;
    let i = start;
    let plain = true;
    for (;;) {
      const c = bytes[i];
      if (c === undefined) throw HAND_OVER;
      if (c === QUOTE) break;
      if (c < 0x20) throw HAND_OVER;
      if (c === BACKSLASH) {
        plain = false;
        i++; // the escaped character, which may be a quote
        if (bytes[i] === undefined) throw HAND_OVER;
      }
      i++;
    }
    this.pos = i + 1;
    if (plain) return this.text.toString('utf8', start, i);
    try {
      return JSON.parse(this.text.toString('utf8', start - 1, i + 1)) as string;
    } catch {
      throw HAND_OVER;
    }
  }

  private literal(word: string): boolean {
    for (let k = 0; k < word.length; k++) {
      if (this.bytes[this.pos + k] !== word.charCodeAt(k)) return false;
    }
    this.pos += word.length;
    return true;
  }

  private skipWhitespace(): void {
    const bytes = this.bytes;
    let i = this.pos;
    for (;;) {
      const c = bytes[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }
}
