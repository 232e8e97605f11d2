/**
 * Stacking the inputs of several requests into one batch along dim 0, and cutting the batch's
 * outputs back into per-request views (no copy on the way out).
 */
import type { WireTensor } from '../runtime/messages.ts';
import { DATATYPES, type Datatype, type NumericArray, type TensorValues } from '../tensor/datatypes.ts';
import type { TensorSpec } from '../tensor/signature.ts';
import type { InferInput } from './types.ts';

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * Feeds for a batch: one tensor per signature input, rows of every request stacked in order.
 * Every numeric buffer in the result is freshly owned, so it can be transferred to a worker.
 */
export function stackInputs(
  specs: readonly TensorSpec[],
  requests: readonly (readonly InferInput[])[],
  rows: number,
): WireTensor[] {
  return specs.map((spec, index) => {
    const first = requests[0]?.[index] as InferInput;
    const ort = DATATYPES[spec.datatype].ort;
    if (requests.length === 1) return { name: spec.name, type: ort, dims: first.shape, data: owned(first.data) };
    const dims = [rows, ...first.shape.slice(1)];
    if (Array.isArray(first.data)) {
      const strings: string[] = [];
      for (const r of requests)
        for (const b of (r[index] as InferInput).data as Uint8Array[]) strings.push(utf8Decoder.decode(b));
      return { name: spec.name, type: ort, dims, data: strings };
    }
    let total = 0;
    for (const r of requests) total += ((r[index] as InferInput).data as NumericArray).length;
    const Ctor = (first.data as NumericArray).constructor as NumericArrayConstructor;
    // Every element is written below: no need for the zero fill of `new Ctor(total)`.
    const out = new Ctor(Buffer.allocUnsafeSlow(total * Ctor.BYTES_PER_ELEMENT).buffer, 0, total);
    let offset = 0;
    for (const r of requests) {
      const part = (r[index] as InferInput).data as NumericArray;
      (out as Float32Array).set(part as Float32Array, offset);
      offset += part.length;
    }
    return { name: spec.name, type: ort, dims, data: out };
  });
}

// A typed array that spans its whole buffer can be transferred as is; anything else (a view into
// a request body, which may sit in Node's shared Buffer pool) is copied first.
function owned(values: TensorValues): WireTensor['data'] {
  if (Array.isArray(values)) return values.map((b) => utf8Decoder.decode(b));
  if (
    values.byteOffset === 0 &&
    values.byteLength === values.buffer.byteLength &&
    values.buffer instanceof ArrayBuffer
  ) {
    return values;
  }
  return (values as Float32Array).slice();
}

type NumericArrayConstructor = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** One request's share of an output. */
export interface OutputPart {
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorValues;
}

/** Converts an output's data from the worker into tensor values. */
export function toTensorValues(data: WireTensor['data']): TensorValues {
  if (!ArrayBuffer.isView(data)) return (data as readonly string[]).map((s) => utf8Encoder.encode(s));
  return data as NumericArray;
}

/**
 * Cuts an output of a batch into per-request parts by their row counts, as views into one buffer.
 */
export function splitOutput(
  tensor: { dims: readonly number[]; values: TensorValues; datatype: Datatype },
  rows: readonly number[],
): OutputPart[] {
  const { dims, values, datatype } = tensor;
  if (rows.length === 1) return [{ datatype, shape: dims, data: values }];
  const total = dims[0] ?? 0;
  const rowSize = total === 0 ? 0 : values.length / total;
  const parts: OutputPart[] = [];
  let offset = 0;
  for (const r of rows) {
    const shape = [r, ...dims.slice(1)];
    const start = offset * rowSize;
    const end = start + r * rowSize;
    const data = Array.isArray(values) ? values.slice(start, end) : (values as Float32Array).subarray(start, end);
    parts.push({ datatype, shape, data });
    offset += r;
  }
  return parts;
}
