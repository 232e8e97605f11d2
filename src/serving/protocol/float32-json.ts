/**
 * Prints float32 tensor data as JSON numbers with the fewest significant digits that read back
 * to the same float32, written straight into a byte buffer.
 *
 * `JSON.stringify` prints a float32 as the double it widens to, 17 significant digits
 * (0.1f → 0.10000000149011612), and goes through a JS array and a string per element: ≈ 120 ns
 * an element, ≈ 1 ms of the event loop for the transformer's 8,192 outputs. A client reading
 * the number back into a float32 (numpy, torch, `Math.fround`) gets the same value from
 * `0.1`: the shortest decimal whose nearest double rounds to the float32 is enough.
 *
 * Why it is always right: nine significant digits identify every float32 (the 9-digit decimal,
 * even computed with a few ulps of error and read back as the nearest double, is within ≈ 5·10⁻⁹
 * of the value, relatively, and the midpoints to its float32 neighbours are at least 2⁻²⁵ ≈ 3·10⁻⁸
 * away), so the 9-digit candidate is written without a check. Shorter candidates are written
 * only when `Math.fround` of the double they denote is the value: exactly as `JSON.parse` reads
 * them when the decimal exponent is within ±22 (one correctly rounded operation on exact
 * doubles), and otherwise only if every double within a few ulps of the computed one rounds to
 * the value. The search stops at the first length that does not read back, so the result is the
 * shortest except, rarely, just above a power of two. test/serving/float32-json.test.ts fuzzes
 * `Math.fround(JSON.parse(printed)) === value` over random bit patterns and the edge cases.
 */

// 10^k, each the correctly rounded double of its literal; a float32's decimal exponent is in
// [-45, 38], and scaling to nine digits needs 10^53 at most.
const POWERS = Array.from({ length: 61 }, (_, k) => Number(`1e${k}`));
const NEGATIVE_POWERS = Array.from({ length: 61 }, (_, k) => Number(`1e-${k}`));
// Clinger's fast path: 10^k is an exact double for k ≤ 22.
const MAX_EXACT_POWER = 22;
const SLACK = 4 * 2 ** -52;
// Longest element: a sign and 21 digits (values below 10^21 are printed without an exponent, as
// Number.prototype.toString prints them), and a comma.
const MAX_ELEMENT_BYTES = 23;

const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const LOWER_E = 0x65;
const PLUS = 0x2b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LOG10_2 = Math.LOG10E * Math.LN2;

/**
 * The JSON text of a flat array of float32 values. NaN and ±Infinity, which JSON cannot carry,
 * become null (as `JSON.stringify` writes them); −0 becomes 0.
 * @example float32JsonArray(new Float32Array([0.1, 1, -2.5e-8])) // '[0.1,1,-2.5e-8]'
 */
export function float32JsonArray(values: Float32Array): string {
  const buffer = Buffer.allocUnsafe(values.length * MAX_ELEMENT_BYTES + 2);
  // A plain Uint8Array view: V8 writes a Buffer's elements more slowly in this loop.
  const writer = new Float32Writer(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  writer.byte(OPEN_BRACKET);
  for (let i = 0; i < values.length; i++) {
    if (i > 0) writer.byte(COMMA);
    writer.float32(values[i]!, bits[i]!);
  }
  writer.byte(CLOSE_BRACKET);
  return buffer.toString('latin1', 0, writer.pos);
}

/** Writes numbers into a byte buffer large enough for them. */
class Float32Writer {
  pos = 0;

  constructor(private readonly out: Uint8Array) {}

  byte(b: number): void {
    this.out[this.pos++] = b;
  }

  /** Writes `value`, a float32 whose encoding is `bits`. */
  float32(value: number, bits: number): void {
    const biased = (bits >>> 23) & 0xff;
    if (biased === 0xff) {
      this.null(); // NaN and ±Infinity
      return;
    }
    if (value === 0) {
      this.byte(ZERO);
      return;
    }
    let a = value;
    if (a < 0) {
      this.byte(MINUS);
      a = -a;
    }
    // The decimal exponent of the leading digit, from the binary one (log10(2) ≈ 0.30103) and one
    // comparison; corrected below if the estimate is one off.
    let exponent: number;
    if (biased === 0) {
      exponent = Math.floor(Math.log10(a)); // subnormal
    } else {
      exponent = Math.floor((biased - 127) * LOG10_2);
      if (a >= powerOfTen(exponent + 1)) exponent++;
    }
    let digits = scaled(a, 8 - exponent);
    if (digits >= 1e9) digits = scaled(a, 8 - ++exponent);
    else if (digits < 1e8) digits = scaled(a, 8 - --exponent);
    // A value just under a power of ten can round up to ten digits.
    if (digits >= 1e9) {
      digits = 1e8;
      exponent++;
    }
    let length = 9;
    for (let p = 8; p >= 1; p--) {
      const candidate = scaled(a, p - 1 - exponent);
      if (!readsBack(candidate, exponent - p + 1, a)) break;
      if (candidate >= POWERS[p]!) {
        // Rounded up to the next power of ten (9.99…e-7 → 1e-6): one digit, the shortest there is.
        digits = 1;
        length = 1;
        exponent++;
        break;
      }
      digits = candidate;
      length = p;
    }
    let kept = digits | 0; // < 10^9 < 2^31
    while (length > 1) {
      const q = (kept / 10) | 0;
      if (kept !== q * 10) break;
      kept = q;
      length--;
    }
    this.decimal(kept, length, exponent + 1);
  }

  private null(): void {
    const { out, pos } = this;
    out[pos] = 0x6e;
    out[pos + 1] = 0x75;
    out[pos + 2] = 0x6c;
    out[pos + 3] = 0x6c;
    this.pos = pos + 4;
  }

  /**
   * Writes `digits` (an integer of exactly `length` digits, no trailing zero) as the number
   * 0.<digits> × 10^point, laid out as `Number.prototype.toString` lays out doubles.
   */
  private decimal(digits: number, length: number, point: number): void {
    if (point >= length && point <= 21) {
      this.digits(digits, length);
      for (let k = length; k < point; k++) this.byte(ZERO);
    } else if (point > 0 && point <= 21) {
      const unit = POWERS[length - point]!;
      const whole = Math.floor(digits / unit);
      this.digits(whole, point);
      this.byte(DOT);
      this.digits(digits - whole * unit, length - point);
    } else if (point > -6 && point <= 0) {
      this.byte(ZERO);
      this.byte(DOT);
      for (let k = point; k < 0; k++) this.byte(ZERO);
      this.digits(digits, length);
    } else {
      const unit = POWERS[length - 1]!;
      const lead = Math.floor(digits / unit);
      this.byte(ZERO + lead);
      if (length > 1) {
        this.byte(DOT);
        this.digits(digits - lead * unit, length - 1);
      }
      this.byte(LOWER_E);
      const e = point - 1;
      this.byte(e < 0 ? MINUS : PLUS);
      this.digits(Math.abs(e), Math.abs(e) >= 10 ? 2 : 1);
    }
  }

  /** Writes `value` as exactly `length` digits (leading zeros kept). */
  private digits(value: number, length: number): void {
    const out = this.out;
    let v = value | 0; // < 10^9 < 2^31
    const start = this.pos;
    for (let k = start + length - 1; k >= start; k--) {
      const q = (v / 10) | 0;
      out[k] = ZERO + (v - q * 10);
      v = q;
    }
    this.pos = start + length;
  }
}

function powerOfTen(k: number): number {
  return k >= 0 ? POWERS[k]! : NEGATIVE_POWERS[-k]!;
}

/** `round(a · 10^shift)`. */
function scaled(a: number, shift: number): number {
  return Math.round(shift >= 0 ? a * POWERS[shift]! : a / POWERS[-shift]!);
}

/** Whether `Math.fround(JSON.parse("<digits>e<scale>")) === a`. */
function readsBack(digits: number, scale: number, a: number): boolean {
  const d = scale >= 0 ? digits * POWERS[scale]! : digits / POWERS[-scale]!;
  // Exact operands and one correctly rounded operation: the double JSON.parse reads.
  if (scale >= -MAX_EXACT_POWER && scale <= MAX_EXACT_POWER) return Math.fround(d) === a;
  // Within ~1.5 ulps of the true value: accepted only if the whole neighbourhood rounds to `a`.
  return Math.fround(d * (1 - SLACK)) === a && Math.fround(d * (1 + SLACK)) === a;
}
