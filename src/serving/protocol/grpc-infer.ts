/**
 * Converts between the gRPC messages of the Open Inference Protocol (as @grpc/proto-loader decodes
 * them: snake_case keys, 64-bit integers as strings) and the transport-neutral request/response.
 */
import { StratumError } from '../../errors/index.ts';
import {
  type Datatype,
  DATATYPE_NAMES,
  elementCount,
  isDatatype,
  type NumericArray,
  type TensorValues,
} from '../../tensor/datatypes.ts';
import type { InferInput, InferRequest, InferResponse, Parameters } from '../types.ts';
import { readInt, readTimeout } from './rest-infer-request.ts';
import { decodeBinaryTensor, encodeBinaryTensor } from './tensor-binary.ts';
import { decodeJsonTensor, invalid } from './tensor-json.ts';

/** An InferParameter as decoded with `oneofs: true`. */
export interface GrpcParameter {
  parameter_choice?: string;
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
}

/** InferTensorContents as decoded. */
export interface GrpcContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

/** ModelInferRequest as decoded. */
export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, GrpcParameter>;
  inputs: {
    name: string;
    datatype: string;
    shape: (string | number)[];
    parameters?: Record<string, GrpcParameter>;
    contents?: GrpcContents | null;
  }[];
  outputs: { name: string; parameters?: Record<string, GrpcParameter> }[];
  raw_input_contents: Uint8Array[];
}

/** Which typed contents field carries each datatype (FP16 has none: raw contents only). */
export const CONTENTS_FIELD: Readonly<Record<Datatype, keyof GrpcContents | null>> = Object.freeze({
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: null,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
});

/** Converts gRPC parameters to plain values. */
export function fromGrpcParameters(params: Record<string, GrpcParameter> | undefined): Parameters | undefined {
  if (params === undefined) return undefined;
  const keys = Object.keys(params);
  if (keys.length === 0) return undefined;
  const out: Parameters = {};
  for (const key of keys) {
    const p = params[key] as GrpcParameter;
    switch (p.parameter_choice) {
      case 'bool_param':
        out[key] = p.bool_param === true;
        break;
      case 'int64_param':
        out[key] = Number(p.int64_param);
        break;
      case 'uint64_param':
        out[key] = Number(p.uint64_param);
        break;
      case 'double_param':
        out[key] = p.double_param ?? 0;
        break;
      default:
        out[key] = p.string_param ?? '';
    }
  }
  return out;
}

/**
 * Decodes a ModelInferRequest.
 * @throws StratumError INVALID_INPUT / BAD_REQUEST / INVALID_PARAMETER.
 */
export function decodeGrpcInferRequest(message: GrpcInferRequest, maxBytesElement: number): InferRequest {
  const raw = message.raw_input_contents;
  if (raw.length > 0 && raw.length !== message.inputs.length) {
    throw new StratumError(
      'BAD_REQUEST',
      `raw_input_contents has ${raw.length} entries for ${message.inputs.length} inputs; send one per input or none`,
    );
  }
  const inputs: InferInput[] = message.inputs.map((input, index) => {
    const name = input.name;
    if (name === '')
      throw new StratumError(
        'BAD_REQUEST',
        `invalid inference request: inputs[${index}].name: must be a non-empty string`,
      );
    if (!isDatatype(input.datatype)) {
      throw new StratumError(
        'INVALID_INPUT',
        `input "${name}": unknown datatype ${JSON.stringify(input.datatype)}; expected one of ${DATATYPE_NAMES.join(', ')}`,
      );
    }
    const datatype = input.datatype;
    const shape = input.shape.map(Number);
    if (shape.some((d) => !Number.isInteger(d) || d < 0 || d > 2 ** 31 - 1)) {
      throw invalid(name, `shape [${shape.join(',')}] must hold non-negative integers`);
    }
    let data: TensorValues;
    const rawBytes = raw[index];
    if (rawBytes !== undefined) {
      if (hasContents(input.contents)) throw invalid(name, 'has both contents and raw_input_contents');
      data = decodeBinaryTensor({ name, datatype, shape, bytes: rawBytes, maxBytesElement });
    } else {
      data = decodeContents({ name, datatype, shape, contents: input.contents ?? undefined, maxBytesElement });
    }
    const parameters = fromGrpcParameters(input.parameters);
    return { name, datatype, shape, data, ...(parameters !== undefined && { parameters }) };
  });
  const parameters = fromGrpcParameters(message.parameters);
  const priority = readInt(parameters, 'priority', 0);
  const timeout = readTimeout(parameters);
  return {
    inputs,
    binaryOutputs: raw.length > 0,
    ...(message.id !== '' && { id: message.id }),
    ...(parameters !== undefined && { parameters }),
    ...(message.outputs.length > 0 && {
      outputs: message.outputs.map((o) => ({ name: o.name, binary: raw.length > 0 })),
    }),
    ...(priority !== undefined && { priority }),
    ...(timeout !== undefined && { timeoutMicroseconds: timeout }),
  };
}

function hasContents(contents: GrpcContents | null | undefined): boolean {
  if (contents == null) return false;
  return Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);
}

function decodeContents(options: {
  name: string;
  datatype: Datatype;
  shape: number[];
  contents: GrpcContents | undefined;
  maxBytesElement: number;
}): TensorValues {
  const { name, datatype, shape, contents, maxBytesElement } = options;
  const field = CONTENTS_FIELD[datatype];
  if (field === null) {
    throw new StratumError(
      'UNSUPPORTED',
      `input "${name}": ${datatype} has no typed contents field; send it in raw_input_contents`,
    );
  }
  const values = (contents?.[field] ?? []) as unknown[];
  if (datatype === 'BYTES') {
    return decodeJsonTensor({
      name,
      datatype,
      shape,
      data: (values as Uint8Array[]).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')),
      maxBytesElement,
    });
  }
  if (datatype === 'INT64' || datatype === 'UINT64') return decodeInt64Contents({ name, datatype, shape, values });
  return decodeJsonTensor({ name, datatype, shape, data: values, maxBytesElement });
}

// proto-loader hands 64-bit integers over as decimal strings (longs: String): parse them with
// BigInt so values beyond 2^53 keep every digit.
function decodeInt64Contents(options: {
  name: string;
  datatype: 'INT64' | 'UINT64';
  shape: number[];
  values: unknown[];
}): TensorValues {
  const { name, datatype, shape, values } = options;
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw invalid(
      name,
      `shape [${shape.join(',')}] needs ${expected} elements, got ${values.length} in ${CONTENTS_FIELD[datatype]}`,
    );
  }
  const out = datatype === 'UINT64' ? new BigUint64Array(expected) : new BigInt64Array(expected);
  const [lo, hi] = datatype === 'UINT64' ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
  for (let i = 0; i < expected; i++) {
    const v = BigInt(values[i] as string | number);
    if (v < lo || v > hi) throw invalid(name, `element ${i} (${v}) is out of range for ${datatype}`);
    out[i] = v;
  }
  return out;
}

/** A ModelInferResponse ready for @grpc/proto-loader to encode. */
export function encodeGrpcInferResponse(response: InferResponse, raw: boolean): Record<string, unknown> {
  const rawOutputs: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    const base = { name: o.name, datatype: o.datatype, shape: o.shape };
    if (raw) {
      const bytes = encodeBinaryTensor(o.data);
      rawOutputs.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return base;
    }
    return { ...base, contents: toContents(o.datatype, o.data) };
  });
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id ?? '',
    outputs,
    raw_output_contents: rawOutputs,
  };
}

function toContents(datatype: Datatype, data: TensorValues): GrpcContents {
  const field = CONTENTS_FIELD[datatype];
  if (field === null) {
    throw new StratumError(
      'UNSUPPORTED',
      `${datatype} outputs have no typed contents field; send inputs as raw_input_contents to get raw outputs`,
    );
  }
  if (Array.isArray(data)) return { bytes_contents: data };
  if (datatype === 'BOOL') return { bool_contents: Array.from(data as Uint8Array, (v) => v !== 0) };
  if (datatype === 'INT64' || datatype === 'UINT64') {
    return { [field]: Array.from(data as BigInt64Array, (v) => v.toString()) };
  }
  return { [field]: Array.from(data as Exclude<NumericArray, BigInt64Array | BigUint64Array>) };
}
