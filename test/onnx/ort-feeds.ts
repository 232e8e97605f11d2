/**
 * Test helpers for running fixtures in onnxruntime: random feeds for a signature and row slicing
 * for batched-versus-unbatched outputs (compared with `../helpers/assert-close.ts`).
 */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { ValueSpec } from '../../src/onnx/graph-builder.ts';
import { seededRandom, type SeededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import type { TensorElementType } from '../../src/onnx/tensor-proto.ts';

/** onnxruntime's tensor type for each ONNX element type the fixtures use. */
export const ORT_TYPE: Partial<Record<TensorElementType, ort.Tensor.Type>> = Object.freeze({
  FLOAT: 'float32',
  DOUBLE: 'float64',
  FLOAT16: 'float16',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  BOOL: 'bool',
  STRING: 'string',
});

/** Strings for STRING inputs: vocabulary words, an unknown word, the empty string, non-ASCII. */
export const SAMPLE_STRINGS = Object.freeze(['cat', 'dog', 'bird', 'fish', 'zebra', '', 'naïve ✓']);

/** Returns the value's shape with symbolic or unknown dimensions replaced by `batch`. */
export function concreteShape(spec: ValueSpec, batch: number): number[] {
  return (spec.shape ?? []).map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : batch));
}

/** Random feeds for `inputs` at the given batch size. */
export function randomFeeds(
  inputs: readonly ValueSpec[],
  options: { batch: number; seed: number },
): Record<string, ort.Tensor> {
  const random = seededRandom(options.seed);
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of inputs) {
    const dims = concreteShape(spec, options.batch);
    const length = dims.reduce((a, b) => a * b, 1);
    const type = ORT_TYPE[spec.type];
    assert.ok(type, `no onnxruntime type for ${spec.type}`);
    feeds[spec.name] = new ort.Tensor(type, randomData(spec.type, { length, random }) as ort.Tensor.DataType, dims);
  }
  return feeds;
}

function randomData(type: TensorElementType, options: { length: number; random: SeededRandom }): ort.Tensor.DataType {
  const { length, random } = options;
  const ints = (min: number, max: number): number[] =>
    Array.from({ length }, () => min + Math.floor(random.next() * (max - min + 1)));
  switch (type) {
    case 'FLOAT':
      return random.uniform({ length, limit: 1 });
    case 'DOUBLE':
      return Float64Array.from(random.uniform({ length, limit: 1 }));
    case 'FLOAT16':
      // Normal halves in ±[0.25, 4): sign bit, exponent 13..16, random mantissa.
      return Uint16Array.from(ints(0, 0xffff), (bits) => (bits & 0x83ff) | ((13 + (bits % 4)) << 10));
    case 'BOOL':
      return Uint8Array.from(ints(0, 1));
    case 'INT8':
      return Int8Array.from(ints(-128, 127));
    case 'UINT8':
      return Uint8Array.from(ints(0, 255));
    case 'INT16':
      return Int16Array.from(ints(-32768, 32767));
    case 'UINT16':
      return Uint16Array.from(ints(0, 65535));
    case 'INT32':
      return Int32Array.from(ints(-1000, 1000));
    case 'UINT32':
      return Uint32Array.from(ints(0, 0xffffffff));
    case 'INT64':
      return BigInt64Array.from(ints(-1e9, 1e9), (value) => BigInt(value) * 4096n);
    case 'UINT64':
      return BigUint64Array.from(ints(0, 2e9), (value) => BigInt(value) * 65536n);
    case 'STRING':
      return ints(0, SAMPLE_STRINGS.length - 1).map((index) => SAMPLE_STRINGS[index] ?? '');
    default:
      throw new Error(`no random data for ${type}`);
  }
}

/** Rows `[start, start + count)` along the first dimension of `tensor`. */
export function sliceRows(tensor: ort.Tensor, options: { start: number; count: number }): ort.Tensor {
  const [batch = 1, ...rest] = tensor.dims;
  const rowLength = tensor.size / batch;
  const data = tensor.data.slice(options.start * rowLength, (options.start + options.count) * rowLength);
  return new ort.Tensor(tensor.type, data as ort.Tensor.DataType, [options.count, ...rest]);
}

/** Concatenates tensors along the first dimension. */
export function concatRows(tensors: readonly ort.Tensor[]): { data: unknown[]; dims: number[] } {
  const [first] = tensors;
  assert.ok(first);
  const data = tensors.flatMap((tensor) => Array.from(tensor.data as ArrayLike<unknown>));
  return { data, dims: [tensors.reduce((rows, tensor) => rows + (tensor.dims[0] ?? 0), 0), ...first.dims.slice(1)] };
}

/** Decodes IEEE half-precision bits, to check FP16 outputs are finite. */
export function halfToNumber(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}
