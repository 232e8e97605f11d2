/**
 * Sends a backend-corpus data set to a Stratum server over REST (JSON where JSON can carry the
 * values, the binary tensor extension for the rest: FP16, NaN, ±Infinity, 64-bit integers beyond
 * 2^53) and over gRPC (typed contents, or raw contents when a tensor is FP16), and compares the
 * answers with the expected outputs.
 */
import type { StratumServer } from '../../src/server/stratum-server.ts';
import { CONTENTS_FIELD } from '../../src/serving/protocol/grpc-infer.ts';
import { DATATYPES, type Datatype } from '../../src/tensor/datatypes.ts';
import { compareTensor, type CorpusDataSet, type CorpusTensor } from './onnx-backend-corpus.ts';
import type { GrpcCall } from './grpc-client.ts';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Whether JSON can carry the tensor's values exactly. */
export function jsonCarries(tensor: CorpusTensor): boolean {
  const { datatype, values } = tensor;
  if (datatype === 'FP16') return false;
  if (datatype === 'FP32' || datatype === 'FP64') {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return false;
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as bigint;
      if (v > limit || v < -limit) return false;
    }
  }
  return true;
}

/** The tensor's bytes in the binary extension's layout. */
export function binaryBytes(tensor: CorpusTensor): Buffer {
  if (tensor.datatype === 'BYTES') {
    const parts = (tensor.values as readonly string[]).flatMap((s) => {
      const bytes = utf8.encode(s);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, Buffer.from(bytes)];
    });
    return Buffer.concat(parts);
  }
  const view = tensor.values as unknown as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function jsonValues(tensor: CorpusTensor): unknown[] {
  const { datatype, values } = tensor;
  if (datatype === 'BOOL') return Array.from(values as Uint8Array, (v) => v !== 0);
  if (datatype === 'INT64' || datatype === 'UINT64') return Array.from(values as BigInt64Array, Number);
  return Array.from(values as ArrayLike<unknown>);
}

/** Decodes binary-extension bytes into comparable values. */
export function fromBinary(options: { datatype: Datatype; bytes: Uint8Array }): ArrayLike<unknown> {
  const { datatype, bytes } = options;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const Ctor = DATATYPES[datatype].array;
  if (Ctor !== null) return new Ctor(copy.buffer, 0, copy.byteLength / DATATYPES[datatype].size);
  const out: string[] = [];
  const view = new DataView(copy.buffer);
  for (let offset = 0; offset < copy.byteLength;) {
    const length = view.getUint32(offset, true);
    out.push(utf8Decoder.decode(copy.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return out;
}

interface RestOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/**
 * Runs one data set over REST (in-process, through the whole HTTP pipeline).
 * @returns undefined when every output matches, else what went wrong.
 */
export async function inferOverRest(options: {
  server: StratumServer;
  model: string;
  set: CorpusDataSet;
}): Promise<string | undefined> {
  const { server, model, set } = options;
  const blobs: Buffer[] = [];
  const inputs = set.inputs.map((t) => {
    const base = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (jsonCarries(t)) return { ...base, data: jsonValues(t) };
    const bytes = binaryBytes(t);
    blobs.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const outputs = set.outputs.map((t) => ({ name: t.name, parameters: { binary_data: !jsonCarries(t) } }));
  const header = Buffer.from(JSON.stringify({ inputs, outputs }));
  const res = await server.http.inject({
    method: 'POST',
    url: `/v2/models/${model}/infer`,
    headers: {
      'content-type': blobs.length > 0 ? 'application/octet-stream' : 'application/json',
      ...(blobs.length > 0 && { 'inference-header-content-length': String(header.length) }),
    },
    payload: Buffer.concat([header, ...blobs]),
  });
  if (res.statusCode !== 200) return `HTTP ${res.statusCode}: ${res.body.slice(0, 300)}`;
  const body = res.rawPayload;
  const headerLength = Number(res.headers['inference-header-content-length'] ?? body.length);
  const json = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: RestOutput[] };
  let offset = headerLength;
  const byName = new Map<string, { shape: number[]; values: ArrayLike<unknown> }>();
  for (const out of json.outputs) {
    const size = out.parameters?.binary_data_size;
    if (size !== undefined) {
      byName.set(out.name, {
        shape: out.shape,
        values: fromBinary({ datatype: out.datatype, bytes: body.subarray(offset, offset + size) }),
      });
      offset += size;
    } else {
      byName.set(out.name, { shape: out.shape, values: out.data ?? [] });
    }
  }
  return compareAll(set, byName);
}

type GrpcContents = Record<string, unknown[]>;

interface GrpcOutput {
  name: string;
  datatype: Datatype;
  shape: string[];
  contents?: GrpcContents | null;
}

/** The typed contents field of a datatype; FP16 has none, so such data sets go as raw contents. */
function contentsField(datatype: Datatype): string {
  const field = CONTENTS_FIELD[datatype];
  if (field === null) throw new Error(`${datatype} has no typed gRPC contents field`);
  return field;
}

function typedContents(tensor: CorpusTensor): GrpcContents {
  const { datatype, values } = tensor;
  const field = contentsField(datatype);
  if (datatype === 'BOOL') return { [field]: Array.from(values as Uint8Array, (v) => v !== 0) };
  if (datatype === 'INT64' || datatype === 'UINT64') return { [field]: Array.from(values as BigInt64Array, String) };
  if (datatype === 'BYTES') return { [field]: (values as readonly string[]).map((s) => Buffer.from(s, 'utf8')) };
  return { [field]: Array.from(values as ArrayLike<number>) };
}

/**
 * Runs one data set over gRPC: typed contents, or raw contents for every tensor when one is FP16
 * (it has no typed field).
 * @returns undefined when every output matches, else what went wrong.
 */
export async function inferOverGrpc(options: {
  call: GrpcCall;
  model: string;
  set: CorpusDataSet;
}): Promise<string | undefined> {
  const { call, model, set } = options;
  const raw = [...set.inputs, ...set.outputs].some((t) => t.datatype === 'FP16');
  const inputs = set.inputs.map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    ...(!raw && { contents: typedContents(t) }),
  }));
  let response: { outputs: GrpcOutput[]; raw_output_contents: Buffer[] };
  try {
    response = await call('ModelInfer', {
      model_name: model,
      inputs,
      ...(raw && { raw_input_contents: set.inputs.map(binaryBytes) }),
    });
  } catch (error) {
    return `gRPC: ${(error as Error).message.slice(0, 300)}`;
  }
  const byName = new Map<string, { shape: number[]; values: ArrayLike<unknown> }>();
  response.outputs.forEach((out, index) => {
    const shape = out.shape.map(Number);
    if (raw) {
      const bytes = response.raw_output_contents[index] ?? Buffer.alloc(0);
      byName.set(out.name, { shape, values: fromBinary({ datatype: out.datatype, bytes }) });
      return;
    }
    const field = contentsField(out.datatype);
    const values = out.contents?.[field] ?? [];
    byName.set(out.name, {
      shape,
      values: out.datatype === 'BYTES' ? values.map((b) => utf8Decoder.decode(b as Uint8Array)) : values,
    });
  });
  return compareAll(set, byName);
}

function compareAll(
  set: CorpusDataSet,
  actual: ReadonlyMap<string, { shape: readonly number[]; values: ArrayLike<unknown> }>,
): string | undefined {
  for (const expected of set.outputs) {
    const got = actual.get(expected.name);
    if (got === undefined) return `no output "${expected.name}"`;
    const why = compareTensor({ actual: got, expected });
    if (why !== undefined) return `output "${expected.name}": ${why}`;
  }
  return undefined;
}
