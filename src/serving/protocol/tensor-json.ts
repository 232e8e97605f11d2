/**
 * JSON tensor data: decoding the protocol's flat or nested `data` arrays into typed arrays (checking
 * every element) and encoding typed arrays back into JSON text.
 */
import { StratumError } from '../../errors/index.ts';
import { DATATYPES, type Datatype, elementCount, INT_RANGES, type TensorValues } from '../../tensor/datatypes.ts';
import { float32JsonArray } from './float32-json.ts';
import { NumericData } from './json-tensor-reader.ts';

const utf8 = new TextEncoder();

/** What to decode. */
export interface JsonTensorSource {
  /** Tensor name, for messages. */
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** The `data` member as parsed from JSON (numbers-only arrays as NumericData by readInferJson). */
  readonly data: unknown;
  /** Largest BYTES element accepted. */
  readonly maxBytesElement: number;
}

/**
 * Decodes a JSON `data` member (flat, or nested row-major) into typed values.
 * @throws StratumError INVALID_INPUT naming the tensor, the element index and what was wrong.
 */
export function decodeJsonTensor(source: JsonTensorSource): TensorValues {
  const { name, datatype, shape } = source;
  if (source.data instanceof NumericData && DATATYPES[datatype].array === Float32Array) {
    // The common case, FP32 from JSON: the reader rounds to float32 without an exact double pass.
    checkCount(source.data.length, shape, name);
    return source.data.float32();
  }
  const flat = flatData(source.data, name);
  checkCount(flat.length, shape, name);
  const info = DATATYPES[datatype];
  switch (info.json) {
    case 'float':
      // The reader's numbers are checked already (FP64 here: FP32 is read above).
      if (flat instanceof Float64Array) return flat;
      return decodeFloats(flat, new (info.array as Float32ArrayConstructor)(flat.length), name);
    case 'int':
      return decodeInts(flat, datatype, name);
    case 'bigint':
      return decodeBigInts(flat, datatype, name);
    case 'bool':
      return decodeBools(flat, name);
    case 'bytes':
      return decodeBytes(flat, name, source.maxBytesElement);
    case 'none':
      throw new StratumError(
        'UNSUPPORTED',
        `input "${name}": datatype ${datatype} cannot be sent as JSON; use the binary tensor extension`,
      );
  }
}

function checkCount(count: number, shape: readonly number[], name: string): void {
  const expected = elementCount(shape);
  if (count !== expected) {
    throw invalid(name, `shape [${shape.join(',')}] needs ${expected} elements, got ${count} in "data"`);
  }
}

/** The elements of `data` in row-major order. */
function flatData(data: unknown, name: string): ArrayLike<unknown> {
  if (data instanceof NumericData) return data.exact();
  if (!Array.isArray(data)) throw invalid(name, `"data" must be an array, got ${describe(data)}`);
  return isFlat(data) ? data : flatten(data, name);
}

function isFlat(data: unknown[]): boolean {
  return data.length === 0 || !Array.isArray(data[0]);
}

function flatten(data: unknown[], name: string): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown[], depth: number): void => {
    if (depth > 32) throw invalid(name, '"data" is nested more than 32 levels deep');
    for (const item of node) {
      if (Array.isArray(item)) walk(item, depth + 1);
      else out.push(item);
    }
  };
  walk(data, 0);
  return out;
}

function decodeFloats(flat: ArrayLike<unknown>, out: Float32Array | Float64Array, name: string): TensorValues {
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number') throw badElement(name, i, { expected: 'a number', got: v });
    out[i] = v;
  }
  return out;
}

function decodeInts(flat: ArrayLike<unknown>, datatype: Datatype, name: string): TensorValues {
  const Ctor = DATATYPES[datatype].array as Int32ArrayConstructor;
  const out = new Ctor(flat.length);
  const [lo, hi] = INT_RANGES[datatype] ?? [-Infinity, Infinity];
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw badElement(name, i, { expected: `an integer in [${lo}, ${hi}] for ${datatype}`, got: v });
    }
    out[i] = v;
  }
  return out;
}

function decodeBigInts(flat: ArrayLike<unknown>, datatype: Datatype, name: string): TensorValues {
  const unsigned = datatype === 'UINT64';
  const out = unsigned ? new BigUint64Array(flat.length) : new BigInt64Array(flat.length);
  // Checked as doubles (2^63 and 2^64 are exact): a value outside would wrap silently in the array.
  const [lo, hi] = unsigned ? [0, 2 ** 64] : [-(2 ** 63), 2 ** 63];
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v >= hi) {
      const expected = unsigned ? 'an integer in [0, 2^64) for UINT64' : 'an integer in [-2^63, 2^63) for INT64';
      throw badElement(name, i, { expected, got: v });
    }
    out[i] = BigInt(v);
  }
  return out;
}

function decodeBools(flat: ArrayLike<unknown>, name: string): TensorValues {
  const out = new Uint8Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'boolean') throw badElement(name, i, { expected: 'true or false', got: v });
    out[i] = v ? 1 : 0;
  }
  return out;
}

function decodeBytes(flat: ArrayLike<unknown>, name: string, limit: number): TensorValues {
  const out: Uint8Array[] = new Array<Uint8Array>(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'string') throw badElement(name, i, { expected: 'a string', got: v });
    const bytes = utf8.encode(v);
    if (bytes.length > limit) {
      throw new StratumError(
        'BODY_TOO_LARGE',
        `input "${name}": element ${i} is ${bytes.length} bytes, over the ${limit}-byte limit for one BYTES element`,
      );
    }
    out[i] = bytes;
  }
  return out;
}

const utf8Decoder = new TextDecoder();

/**
 * Encodes tensor values as the JSON text of a flat `data` array. Non-finite floats, which JSON
 * cannot carry, become null. FP32 values are printed with the fewest significant digits that read
 * back to the same float32 (0.1, not 0.10000000149011612); FP64 with full double precision.
 */
export function encodeJsonData(values: TensorValues, datatype: Datatype): string {
  if (Array.isArray(values)) {
    return JSON.stringify(values.map((b) => utf8Decoder.decode(b)));
  }
  if (datatype === 'BOOL') {
    let s = '[';
    for (let i = 0; i < values.length; i++) s += (i ? ',' : '') + (values[i] ? 'true' : 'false');
    return `${s}]`;
  }
  if (datatype === 'FP16') {
    throw new StratumError('UNSUPPORTED', 'FP16 outputs can only be sent in binary; set binary_data');
  }
  // JSON.stringify of a plain array is ~2.5× faster than typed-array join for floats, and it
  // writes NaN and ±Infinity (which JSON cannot carry) as null. 64-bit integers are printed
  // exactly with join (BigInt has no JSON form).
  if (datatype === 'INT64' || datatype === 'UINT64') return `[${values.join(',')}]`;
  // FP32 with the fewest digits that read back to the same float32, not as the double it widens to.
  if (values instanceof Float32Array) return float32JsonArray(values);
  return JSON.stringify(Array.from(values as Float64Array));
}

/** An INVALID_INPUT error about tensor `name`. */
export function invalid(name: string, what: string): StratumError {
  return new StratumError('INVALID_INPUT', `input "${name}": ${what}`, { details: { input: name } });
}

function badElement(name: string, index: number, expectation: { expected: string; got: unknown }): StratumError {
  const { expected, got } = expectation;
  return new StratumError(
    'INVALID_INPUT',
    `input "${name}": element ${index} of "data" must be ${expected}, got ${describe(got)}`,
    { details: { input: name, index } },
  );
}

/** A short description of a JSON value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 20 ? `${value.slice(0, 20)}…` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
