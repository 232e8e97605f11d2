/**
 * The reverse of `createTensorProto`: a `TensorProto`'s contents as a typed array (or strings),
 * whichever field the writer used — `raw_data` (little-endian bytes) or the typed `*_data` lists,
 * which the ONNX spec packs per element type (e.g. INT8, BOOL and FLOAT16 bits in `int32_data`).
 */
import { DATA_TYPE, type DataTypeName, type DecodedTensorProto } from './onnx-proto.ts';
import type { NumericTensorData, TensorData } from './tensor-proto.ts';

/** A tensor's element type, dimensions and contents. */
export interface TensorContents {
  readonly name: string;
  readonly type: DataTypeName;
  readonly dims: readonly number[];
  /** Row-major; complex types hold interleaved real and imaginary parts. */
  readonly data: TensorData;
}

type NumericCtor = {
  new (length: number): NumericTensorData;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericTensorData;
  readonly BYTES_PER_ELEMENT: number;
};

/** Array and typed field of each element type (ONNX `TensorProto` field comments). */
const LAYOUT: Readonly<
  Partial<Record<DataTypeName, { array: NumericCtor; field: 'float' | 'int32' | 'int64' | 'double' | 'uint64' }>>
> = Object.freeze({
  FLOAT: { array: Float32Array, field: 'float' },
  COMPLEX64: { array: Float32Array, field: 'float' },
  DOUBLE: { array: Float64Array, field: 'double' },
  COMPLEX128: { array: Float64Array, field: 'double' },
  INT8: { array: Int8Array, field: 'int32' },
  UINT8: { array: Uint8Array, field: 'int32' },
  INT16: { array: Int16Array, field: 'int32' },
  UINT16: { array: Uint16Array, field: 'int32' },
  INT32: { array: Int32Array, field: 'int32' },
  BOOL: { array: Uint8Array, field: 'int32' },
  FLOAT16: { array: Uint16Array, field: 'int32' },
  BFLOAT16: { array: Uint16Array, field: 'int32' },
  FLOAT8E4M3FN: { array: Uint8Array, field: 'int32' },
  FLOAT8E4M3FNUZ: { array: Uint8Array, field: 'int32' },
  FLOAT8E5M2: { array: Uint8Array, field: 'int32' },
  FLOAT8E5M2FNUZ: { array: Uint8Array, field: 'int32' },
  INT64: { array: BigInt64Array, field: 'int64' },
  UINT32: { array: Uint32Array, field: 'uint64' },
  UINT64: { array: BigUint64Array, field: 'uint64' },
});

const TYPE_NAME: ReadonlyMap<number, DataTypeName> = new Map(
  Object.entries(DATA_TYPE).map(([name, value]) => [value, name as DataTypeName] as const),
);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const UTF8 = new TextDecoder();

/**
 * Reads a tensor's contents.
 *
 * @throws RangeError for external data, 4-bit types, or contents that do not fit `dims`.
 * @example
 * ```ts
 * const { type, dims, data } = readTensorProto(decodeTensor(await readFile('input_0.pb')))
 * ```
 */
export function readTensorProto(tensor: DecodedTensorProto): TensorContents {
  const name = tensor.name ?? '';
  const type = TYPE_NAME.get(tensor.data_type ?? 0) ?? 'UNDEFINED';
  const dims = tensor.dims;
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (tensor.data_location === 1) throw new RangeError(`tensor "${name}": external data is not read`);
  if (type === 'STRING') {
    const data = tensor.string_data.map((bytes) => UTF8.decode(bytes));
    if (data.length !== count) throw mismatch(name, dims, data.length);
    return { name, type, dims, data };
  }
  const layout = LAYOUT[type];
  if (layout === undefined) throw new RangeError(`tensor "${name}": element type ${type} is not read`);
  const length = type === 'COMPLEX64' || type === 'COMPLEX128' ? count * 2 : count;
  const data =
    tensor.raw_data !== undefined && tensor.raw_data.byteLength > 0
      ? fromRaw(tensor.raw_data, layout.array)
      : fromTyped(tensor, layout);
  if (data.length !== length) throw mismatch(name, dims, data.length);
  return { name, type, dims, data };
}

function fromRaw(raw: Uint8Array, Ctor: NumericCtor): NumericTensorData {
  // A copy: the view may be unaligned, and its bytes belong to the caller's buffer (a Buffer's
  // `slice` would be a view, so the copy is made explicitly).
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  const width = Ctor.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN_HOST && width > 1) {
    for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
  }
  return new Ctor(bytes.buffer, 0, Math.floor(bytes.byteLength / width));
}

function fromTyped(tensor: DecodedTensorProto, layout: { array: NumericCtor; field: string }): NumericTensorData {
  const Ctor = layout.array;
  switch (layout.field) {
    case 'float':
      return Float32Array.from(tensor.float_data);
    case 'double':
      return Float64Array.from(tensor.double_data);
    case 'int32': {
      const out = new Ctor(tensor.int32_data.length) as Exclude<NumericTensorData, BigInt64Array | BigUint64Array>;
      out.set(tensor.int32_data);
      return out;
    }
    case 'int64':
      return BigInt64Array.from(tensor.int64_data, (value) => BigInt(value));
    default:
      return Ctor === BigUint64Array
        ? BigUint64Array.from(tensor.uint64_data, (value) => BigInt(value))
        : Uint32Array.from(tensor.uint64_data, (value) => Number(value));
  }
}

function mismatch(name: string, dims: readonly number[], got: number): RangeError {
  return new RangeError(`tensor "${name}": dims [${dims.join(',')}] do not fit ${got} elements`);
}
