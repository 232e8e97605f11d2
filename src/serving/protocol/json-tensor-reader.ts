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
 * full have 17) are read approximately here, within a few units in the last place, and their
 * place in the text is kept: {@link exact} reads them again exactly, {@link float32} only where
 * the approximation could round to another float32, which is almost never.
 */
export class NumericData {
  private fixed = false;

  constructor(
    private readonly values: Float64Array,
    /** (index, start, end) of each approximate number: where in `text` to read it exactly. */
    private readonly approximate: Int32Array,
    private readonly text: Buffer,
  ) {}

  get length(): number {
    return this.values.length;
  }

  /** The numbers exactly as `JSON.parse` reads each. */
  exact(): Float64Array {
    if (!this.fixed) {
      const a = this.approximate;
      for (let k = 0; k < a.length; k += 3) this.values[a[k]!] = this.reread(k);
      this.fixed = true;
    }
    return this.values;
  }

  /** The numbers rounded to float32: what `new Float32Array(this.exact())` gives. */
  float32(): Float32Array {
    const out = new Float32Array(this.values);
    if (this.fixed) return out;
    const a = this.approximate;
    for (let k = 0; k < a.length; k += 3) {
      const v = this.values[a[k]!]!;
      // Every value within the approximation's error rounds to one float32: it is the answer.
      if (Math.fround(v * (1 - APPROXIMATION_ERROR)) === Math.fround(v * (1 + APPROXIMATION_ERROR))) continue;
      out[a[k]!] = this.reread(k);
    }
    return out;
  }

  private reread(k: number): number {
    return Number(this.text.toString('latin1', this.approximate[k + 1], this.approximate[k + 2]));
  }
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
const NO_APPROXIMATES = new Int32Array(0);

class Reader {
  private pos = 0;
  // Grown on the first number: a binary request's header has none, and allocating these buffers
  // for every request cost ≈ 4% of the main thread (issue 14).
  private scratch = NO_NUMBERS;
  private approximate = NO_APPROXIMATES;
  private approximateCount = 0;
  private lastExact = true;
  private readonly text: Buffer;

  private readonly bytes: Uint8Array;

  constructor(source: Uint8Array) {
    // A plain Uint8Array view: V8 reads a Buffer's elements more slowly in these loops.
    this.bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
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
    this.approximateCount = 0;
    const count = this.numericArray(depth, 0, 0);
    if (count < 0) {
      this.pos = start;
      return this.value(depth);
    }
    return new NumericData(this.scratch.slice(0, count), this.approximate.slice(0, this.approximateCount), this.text);
  }

  /**
   * Reads a (nested) array of numbers into the scratch buffer from index `count`; returns the new
   * count, or -1 when the array holds anything but numbers and arrays, or is shaped in a way the
   * tensor decoder refuses (those go the plain way, to its messages): nested more than
   * MAX_TENSOR_NESTING levels, or flat at the top (a number first) with an array further on.
   */
  private numericArray(depth: number, count: number, level: number): number {
    if (depth > MAX_DEPTH || level > MAX_TENSOR_NESTING) return -1;
    let flat = false;
    this.pos++; // [
    this.skipWhitespace();
    if (this.bytes[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return count;
    }
    for (;;) {
      this.skipWhitespace();
      const c = this.bytes[this.pos];
      if (c === OPEN_BRACKET) {
        if (flat) return -1;
        count = this.numericArray(depth + 1, count, level + 1);
        if (count < 0) return -1;
      } else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) {
        if (level === 0 && count === 0) flat = true;
        if (count === this.scratch.length) {
          const grown = new Float64Array(Math.max(1024, count * 2));
          grown.set(this.scratch);
          this.scratch = grown;
        }
        const start = this.pos;
        this.scratch[count] = this.readApproximate();
        if (!this.lastExact) this.noteApproximate(count, start);
        count++;
      } else {
        return -1;
      }
      this.skipWhitespace();
      const next = this.bytes[this.pos++];
      if (next === COMMA) continue;
      if (next === CLOSE_BRACKET) return count;
      throw HAND_OVER;
    }
  }

  private noteApproximate(index: number, start: number): void {
    if (this.approximateCount + 3 > this.approximate.length) {
      const grown = new Int32Array(Math.max(96, this.approximate.length * 2));
      grown.set(this.approximate);
      this.approximate = grown;
    }
    const a = this.approximate;
    a[this.approximateCount++] = index;
    a[this.approximateCount++] = start;
    a[this.approximateCount++] = this.pos;
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
      do {
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
