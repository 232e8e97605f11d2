/**
 * The binary tensor data extension: raw little-endian tensor bytes, BYTES elements as a 4-byte
 * little-endian length followed by the bytes.
 */
import { StratumError } from '../../errors/index.ts';
import { DATATYPES, type Datatype, elementCount, type TensorValues } from '../../tensor/datatypes.ts';
import { invalid } from './tensor-json.ts';

/** What to decode. */
export interface BinaryTensorSource {
  /** Tensor name, for messages. */
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** The tensor's bytes (a view into the request body). */
  readonly bytes: Uint8Array;
  /** Largest BYTES element accepted. */
  readonly maxBytesElement: number;
}

/**
 * Decodes raw tensor bytes. Numeric data is viewed in place when aligned, else copied once.
 * @throws StratumError INVALID_INPUT when the byte count does not fit the shape.
 */
export function decodeBinaryTensor(source: BinaryTensorSource): TensorValues {
  const { name, datatype, shape, bytes } = source;
  const count = elementCount(shape);
  const info = DATATYPES[datatype];
  if (info.array === null) return decodeBytesElements(source, count);
  const expected = count * info.size;
  if (bytes.byteLength !== expected) {
    throw invalid(
      name,
      `shape [${shape.join(',')}] of ${datatype} needs ${expected} bytes, got binary_data_size ${bytes.byteLength}`,
    );
  }
  const Ctor = info.array;
  if (bytes.byteOffset % info.size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(expected);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, count);
}

function decodeBytesElements(source: BinaryTensorSource, count: number): Uint8Array[] {
  const { name, bytes, maxBytesElement } = source;
  // Every element has a 4-byte length, so this bounds `count` before the array is allocated.
  if (count * 4 > bytes.byteLength) {
    throw invalid(
      name,
      `shape [${source.shape.join(',')}] of BYTES needs at least ${count * 4} bytes (4 per element), got binary_data_size ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = new Array<Uint8Array>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.byteLength) {
      throw invalid(name, `BYTES element ${i} of ${count}: its 4-byte length runs past the tensor's data`);
    }
    const len = view.getUint32(offset, true);
    offset += 4;
    if (len > maxBytesElement) {
      throw new StratumError(
        'BODY_TOO_LARGE',
        `input "${name}": element ${i} is ${len} bytes, over the ${maxBytesElement}-byte limit for one BYTES element`,
      );
    }
    if (offset + len > bytes.byteLength) {
      throw invalid(name, `BYTES element ${i} claims ${len} bytes but only ${bytes.byteLength - offset} remain`);
    }
    out[i] = bytes.subarray(offset, offset + len);
    offset += len;
  }
  if (offset !== bytes.byteLength) {
    throw invalid(name, `${bytes.byteLength - offset} bytes left over after ${count} BYTES elements`);
  }
  return out;
}

/** The raw bytes of tensor values, as the binary extension sends them. */
export function encodeBinaryTensor(values: TensorValues): Uint8Array {
  if (!Array.isArray(values)) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  let total = 0;
  for (const v of values) total += 4 + v.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const v of values) {
    view.setUint32(offset, v.byteLength, true);
    out.set(v, offset + 4);
    offset += 4 + v.byteLength;
  }
  return out;
}
