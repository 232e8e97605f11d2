/**
 * The Open Inference Protocol's tensor datatypes as one frozen table: the element size, the
 * typed array that holds them in memory, and onnxruntime's name for each.
 */

/** Typed arrays Stratum keeps tensor data in. */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** Tensor data: a typed array, or for BYTES one Uint8Array per element. */
export type TensorValues = NumericArray | Uint8Array[];

type ArrayCtor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

interface DatatypeInfo {
  /** Bytes per element in the binary encoding (0 for BYTES: variable). */
  readonly size: number;
  /** Typed array holding decoded values; null for BYTES. */
  readonly array: ArrayCtor | null;
  /** onnxruntime tensor type. */
  readonly ort: string;
  /** ONNX TensorProto.DataType number. */
  readonly onnx: number;
  /** Which JSON values are accepted. */
  readonly json: 'bool' | 'int' | 'bigint' | 'float' | 'bytes' | 'none';
}

/** Every OIP datatype. FP16 travels only in binary (JSON has no half-precision numbers). */
export const DATATYPES = Object.freeze({
  BOOL: { size: 1, array: Uint8Array, ort: 'bool', onnx: 9, json: 'bool' },
  UINT8: { size: 1, array: Uint8Array, ort: 'uint8', onnx: 2, json: 'int' },
  UINT16: { size: 2, array: Uint16Array, ort: 'uint16', onnx: 4, json: 'int' },
  UINT32: { size: 4, array: Uint32Array, ort: 'uint32', onnx: 12, json: 'int' },
  UINT64: { size: 8, array: BigUint64Array, ort: 'uint64', onnx: 13, json: 'bigint' },
  INT8: { size: 1, array: Int8Array, ort: 'int8', onnx: 3, json: 'int' },
  INT16: { size: 2, array: Int16Array, ort: 'int16', onnx: 5, json: 'int' },
  INT32: { size: 4, array: Int32Array, ort: 'int32', onnx: 6, json: 'int' },
  INT64: { size: 8, array: BigInt64Array, ort: 'int64', onnx: 7, json: 'bigint' },
  FP16: { size: 2, array: Uint16Array, ort: 'float16', onnx: 10, json: 'none' },
  FP32: { size: 4, array: Float32Array, ort: 'float32', onnx: 1, json: 'float' },
  FP64: { size: 8, array: Float64Array, ort: 'float64', onnx: 11, json: 'float' },
  BYTES: { size: 0, array: null, ort: 'string', onnx: 8, json: 'bytes' },
} as const satisfies Record<string, DatatypeInfo>) as Readonly<Record<Datatype, DatatypeInfo>>;

/** An OIP datatype name. */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** All datatype names, in the spec's order. */
export const DATATYPE_NAMES: readonly Datatype[] = Object.freeze(Object.keys(DATATYPES) as Datatype[]);

/** Integer ranges checked when JSON numbers are decoded into a narrow type. */
export const INT_RANGES: Readonly<Partial<Record<Datatype, readonly [number, number]>>> = Object.freeze({
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
});

const BY_ORT: ReadonlyMap<string, Datatype> = new Map(
  DATATYPE_NAMES.map((name) => [DATATYPES[name].ort, name] as const),
);

/** True when `value` names an OIP datatype. */
export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && Object.hasOwn(DATATYPES, value);
}

/** The OIP datatype for an onnxruntime tensor type, or undefined when OIP has none. */
export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return BY_ORT.get(ortType);
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
