/**
 * The ONNX protobuf schema (the subset Stratum writes and reads) and the codec for it.
 *
 * Message, field and enum names and numbers are copied from onnx/onnx `onnx/onnx.proto`
 * (IR version 10); fields Stratum never needs (training info, model-local functions, sparse
 * tensors, quantization annotations, tensor segments) are left out, so a decoder skips them as
 * unknown fields. Field names keep the proto's snake_case so they read like the ONNX spec.
 */
import protobuf from 'protobufjs';
import { OnnxDecodeError } from './onnx-decode-error.ts';

const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    GRAPH = 5;
    SPARSE_TENSOR = 11;
    TYPE_PROTO = 13;
    FLOATS = 6;
    INTS = 7;
    STRINGS = 8;
    TENSORS = 9;
    GRAPHS = 10;
    SPARSE_TENSORS = 12;
    TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
  repeated StringStringEntryProto metadata_props = 4;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  optional string overload = 8;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  repeated StringStringEntryProto metadata_props = 9;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated StringStringEntryProto metadata_props = 16;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0;
    FLOAT = 1;
    UINT8 = 2;
    INT8 = 3;
    UINT16 = 4;
    INT16 = 5;
    INT32 = 6;
    INT64 = 7;
    STRING = 8;
    BOOL = 9;
    FLOAT16 = 10;
    DOUBLE = 11;
    UINT32 = 12;
    UINT64 = 13;
    COMPLEX64 = 14;
    COMPLEX128 = 15;
    BFLOAT16 = 16;
    FLOAT8E4M3FN = 17;
    FLOAT8E4M3FNUZ = 18;
    FLOAT8E5M2 = 19;
    FLOAT8E5M2FNUZ = 20;
    UINT4 = 21;
    INT4 = 22;
  }
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  repeated StringStringEntryProto metadata_props = 16;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  message Sequence {
    optional TypeProto elem_type = 1;
  }
  message Map {
    optional int32 key_type = 1;
    optional TypeProto value_type = 2;
  }
  message Optional {
    optional TypeProto elem_type = 1;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Optional optional_type = 9;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** `TensorProto.DataType`: the element types of ONNX tensors. */
export const DATA_TYPE = Object.freeze({
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
} as const);

/** A `TensorProto.DataType` name, e.g. `'FLOAT'`. */
export type DataTypeName = keyof typeof DATA_TYPE;

/** `AttributeProto.AttributeType`: which value field of an attribute is in use. */
export const ATTRIBUTE_TYPE = Object.freeze({
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const);

/** An `AttributeProto.AttributeType` name, e.g. `'INTS'`. */
export type AttributeTypeName = keyof typeof ATTRIBUTE_TYPE;

/** `StringStringEntryProto`: one key/value pair (ONNX's stand-in for a protobuf map). */
export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

/** `OperatorSetIdProto`: an imported operator set; domain `''` is the default ONNX domain. */
export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

/** `TensorShapeProto.Dimension`: a fixed size (`dim_value`), a symbol (`dim_param`) or unknown. */
export interface TensorShapeDimension {
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}

/** `TensorShapeProto`. */
export interface TensorShapeProto {
  dim: readonly TensorShapeDimension[];
}

/** `TypeProto.Tensor`: element type (a {@link DATA_TYPE} value) and, when known, shape. */
export interface TypeProtoTensor {
  elem_type?: number;
  shape?: TensorShapeProto;
}

/** `TypeProto`: exactly one of the `*_type` fields is set. */
export interface TypeProto {
  tensor_type?: TypeProtoTensor;
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  denotation?: string;
}

/** `ValueInfoProto`: a graph input, output or intermediate value and its type. */
export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
  metadata_props: readonly StringStringEntryProto[];
}

/**
 * `TensorProto`. Stratum writes numbers into `raw_data` (little-endian) and strings into
 * `string_data`; the typed `*_data` fields are here so models from other exporters decode.
 * 64-bit integers decode to JS numbers, exact up to 2^53.
 */
export interface TensorProto {
  dims: readonly number[];
  data_type?: number;
  float_data: readonly number[];
  int32_data: readonly number[];
  string_data: readonly Uint8Array[];
  int64_data: readonly number[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data: readonly StringStringEntryProto[];
  data_location?: number;
  double_data: readonly number[];
  uint64_data: readonly number[];
  metadata_props: readonly StringStringEntryProto[];
}

/** `AttributeProto`: `type` says which one value field is in use. */
export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats: readonly number[];
  ints: readonly number[];
  strings: readonly Uint8Array[];
  tensors: readonly TensorProto[];
  graphs: readonly GraphProto[];
}

/** `NodeProto`: one operator application; `''` in `input` marks an omitted optional input. */
export interface NodeProto {
  input: readonly string[];
  output: readonly string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute: readonly AttributeProto[];
  doc_string?: string;
  metadata_props: readonly StringStringEntryProto[];
}

/** `GraphProto`: nodes in topological order, plus the graph's inputs, outputs and constants. */
export interface GraphProto {
  node: readonly NodeProto[];
  name?: string;
  initializer: readonly TensorProto[];
  doc_string?: string;
  input: readonly ValueInfoProto[];
  output: readonly ValueInfoProto[];
  value_info: readonly ValueInfoProto[];
  metadata_props: readonly StringStringEntryProto[];
}

/** `ModelProto`: the top-level message of a `.onnx` file. */
export interface ModelProto {
  ir_version?: number;
  opset_import: readonly OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: readonly StringStringEntryProto[];
}

/** A decoded model: the fields the ONNX spec says MUST be present are known to be there. */
export type DecodedModel = ModelProto & { readonly ir_version: number; readonly graph: GraphProto };

const ROOT = loadSchema();
const MODEL_TYPE = ROOT.lookupType('onnx.ModelProto');
const TENSOR_TYPE = ROOT.lookupType('onnx.TensorProto');

function loadSchema(): protobuf.Root {
  const { root } = protobuf.parse(ONNX_SCHEMA, { keepCase: true });
  // protobufjs resolves `[packed = true]` lazily; encoding before resolution writes unpacked.
  root.resolveAll();
  return root;
}

/**
 * Serialises a model to the bytes of a `.onnx` file. Same model in, same bytes out.
 *
 * @returns bytes backed by their own `ArrayBuffer` (safe to transfer to a worker).
 * @example
 * ```ts
 * await writeFile('model.onnx', encodeModel(builder.toModel()))
 * ```
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const encoded = MODEL_TYPE.encode(MODEL_TYPE.fromObject(model)).finish();
  // protobufjs may hand back a slice of Node's shared Buffer pool; copy so the caller owns it.
  return new Uint8Array(encoded);
}

/**
 * Parses the bytes of a `.onnx` file. Byte fields (`raw_data`, `string_data`, …) are views into
 * `bytes`, not copies, so reading a large model's signature does not duplicate its weights.
 *
 * @throws {OnnxDecodeError} when the bytes are not protobuf, or are protobuf without the
 *   `ir_version` and `graph` every ONNX model must have; `reason` carries the parser's words.
 * @example
 * ```ts
 * const { graph } = decodeModel(await readFile('model.onnx'))
 * console.log(graph.input.map((value) => value.name))
 * ```
 */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  let model: ModelProto;
  try {
    const message = MODEL_TYPE.decode(bytes);
    model = MODEL_TYPE.toObject(message, { longs: Number, arrays: true }) as ModelProto;
  } catch (err) {
    throw new OnnxDecodeError({ reason: err instanceof Error ? err.message : String(err), cause: err });
  }
  // Protobuf happily decodes many non-ONNX byte strings as unknown fields, so insist on the
  // fields the spec requires before calling the bytes a model.
  if (model.ir_version === undefined || model.ir_version <= 0) {
    throw new OnnxDecodeError({ reason: 'ModelProto.ir_version is missing' });
  }
  if (model.graph === undefined) {
    throw new OnnxDecodeError({ reason: 'ModelProto.graph is missing' });
  }
  return model as DecodedModel;
}

/**
 * A `TensorProto` read from its own file (the ONNX test data's `input_0.pb`). 64-bit integer
 * fields stay decimal strings here, so values beyond 2^53 keep every digit.
 */
export type DecodedTensorProto = Omit<TensorProto, 'int64_data' | 'uint64_data'> & {
  readonly int64_data: readonly string[];
  readonly uint64_data: readonly string[];
};

/**
 * Serialises one `TensorProto` on its own (the layout of the ONNX test data's `.pb` files).
 * 64-bit integer fields may be numbers or decimal strings.
 *
 * @example
 * ```ts
 * await writeFile('input_0.pb', encodeTensor(createTensorProto({ name: 'x', dims: [2], data: new Float32Array([1, 2]) })))
 * ```
 */
export function encodeTensor(tensor: TensorProto | DecodedTensorProto): Uint8Array {
  return new Uint8Array(TENSOR_TYPE.encode(TENSOR_TYPE.fromObject(tensor)).finish());
}

/**
 * Parses the bytes of a serialised `TensorProto` (one `.pb` file of the ONNX backend test data).
 * Byte fields are views into `bytes`.
 *
 * @throws {OnnxDecodeError} when the bytes are not protobuf.
 * @example
 * ```ts
 * const tensor = decodeTensor(await readFile('test_data_set_0/input_0.pb'))
 * ```
 */
export function decodeTensor(bytes: Uint8Array): DecodedTensorProto {
  try {
    const message = TENSOR_TYPE.decode(bytes);
    const tensor = TENSOR_TYPE.toObject(message, { longs: String, arrays: true }) as DecodedTensorProto;
    return { ...tensor, dims: tensor.dims.map(Number) };
  } catch (err) {
    throw new OnnxDecodeError({ reason: err instanceof Error ? err.message : String(err), cause: err });
  }
}
