/**
 * Turns JS typed arrays into ONNX `TensorProto`s: numbers go to `raw_data` as little-endian
 * bytes (the spec's required byte order), strings to `string_data` as UTF-8.
 */
import { DATA_TYPE, type DataTypeName, type TensorProto } from './onnx-proto.ts';

/** Typed arrays a numeric tensor can be built from. */
export type NumericTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Tensor contents: a typed array, or one JS string per element for `STRING` tensors. */
export type TensorData = NumericTensorData | readonly string[];

/** Element types a tensor can be built with: every ONNX type whose elements are whole bytes. */
export type TensorElementType = Exclude<DataTypeName, 'UNDEFINED' | 'UINT4' | 'INT4'>;

/** A tensor to build. */
export interface TensorSpec {
  /** Tensor name; required for initializers, omitted for attribute values. */
  readonly name?: string;
  /** Dimensions; `[]` is a scalar. */
  readonly dims: readonly number[];
  /** Contents in row-major order; the element count must equal the product of `dims`. */
  readonly data: TensorData;
  /**
   * Element type, needed only when the array alone is ambiguous: `BOOL` (Uint8Array),
   * `FLOAT16`/`BFLOAT16` (Uint16Array holding the bit patterns), or the 8-bit floats.
   * @default inferred from `data` (Float32Array → FLOAT, BigInt64Array → INT64, string[] → STRING, …)
   */
  readonly type?: TensorElementType;
}

type TypedArrayName =
  | 'Float32Array'
  | 'Float64Array'
  | 'Int8Array'
  | 'Uint8Array'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int32Array'
  | 'Uint32Array'
  | 'BigInt64Array'
  | 'BigUint64Array'
  | 'Array';

/** Which JS array holds each element type; the first listed type is the array's default. */
const ARRAY_FOR_TYPE = Object.freeze({
  FLOAT: 'Float32Array',
  DOUBLE: 'Float64Array',
  INT8: 'Int8Array',
  UINT8: 'Uint8Array',
  INT16: 'Int16Array',
  UINT16: 'Uint16Array',
  INT32: 'Int32Array',
  UINT32: 'Uint32Array',
  INT64: 'BigInt64Array',
  UINT64: 'BigUint64Array',
  STRING: 'Array',
  BOOL: 'Uint8Array',
  FLOAT16: 'Uint16Array',
  BFLOAT16: 'Uint16Array',
  FLOAT8E4M3FN: 'Uint8Array',
  FLOAT8E4M3FNUZ: 'Uint8Array',
  FLOAT8E5M2: 'Uint8Array',
  FLOAT8E5M2FNUZ: 'Uint8Array',
  COMPLEX64: 'Float32Array',
  COMPLEX128: 'Float64Array',
} as const satisfies Record<TensorElementType, TypedArrayName>);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const UTF8 = new TextEncoder();

/**
 * Builds a `TensorProto` from a typed array or string list.
 *
 * @throws when `data` does not fit `type` or its length does not match `dims`.
 * @example
 * ```ts
 * createTensorProto({ name: 'shape', dims: [4], data: new BigInt64Array([0n, 0n, 4n, 32n]) })
 * ```
 */
export function createTensorProto(spec: TensorSpec): TensorProto {
  const arrayName = Array.isArray(spec.data) ? 'Array' : spec.data.constructor.name;
  const type = spec.type ?? defaultTypeFor(arrayName);
  if (ARRAY_FOR_TYPE[type] !== arrayName) {
    throw new TypeError(`tensor ${describe(spec)}: ${type} data must be a ${ARRAY_FOR_TYPE[type]}, got ${arrayName}`);
  }
  const complexFactor = type === 'COMPLEX64' || type === 'COMPLEX128' ? 2 : 1;
  const expected = spec.dims.reduce((product, dim) => product * dim, 1) * complexFactor;
  if (spec.data.length !== expected) {
    throw new RangeError(
      `tensor ${describe(spec)}: dims [${spec.dims.join(',')}] need ${expected} elements, got ${spec.data.length}`,
    );
  }
  const tensor: TensorProto = {
    dims: [...spec.dims],
    data_type: DATA_TYPE[type],
    float_data: [],
    int32_data: [],
    string_data: isStrings(spec.data) ? spec.data.map((value) => UTF8.encode(value)) : [],
    int64_data: [],
    external_data: [],
    double_data: [],
    uint64_data: [],
    metadata_props: [],
  };
  if (spec.name !== undefined) tensor.name = spec.name;
  if (!isStrings(spec.data)) tensor.raw_data = littleEndianBytes(spec.data);
  return tensor;
}

function defaultTypeFor(arrayName: string): TensorElementType {
  for (const [type, name] of Object.entries(ARRAY_FOR_TYPE)) {
    if (name === arrayName) return type as TensorElementType;
  }
  throw new TypeError(`tensor data must be a typed array or string[], got ${arrayName}`);
}

function isStrings(data: TensorData): data is readonly string[] {
  return Array.isArray(data);
}

function describe(spec: TensorSpec): string {
  return spec.name === undefined ? '(unnamed)' : `"${spec.name}"`;
}

function littleEndianBytes(data: NumericTensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const width = data.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN_HOST && width > 1) {
    for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
  }
  return bytes;
}
