/**
 * How the inference log keeps tensors in its `inputs` and `outputs` JSON documents. A numeric
 * tensor is written as its raw little-endian bytes in base64 (`{"datatype","shape","base64"}`):
 * one native call and 4.2 KB for 784 FP32 values, where the decimal array the log first kept took
 * ~15.7 KB and a float-to-text conversion per element. Text, hashed and hand-built tensors stay
 * JSON arrays (`data`), and so do the rows written before this form existed: reading accepts both
 * and gives every reader the same flat array of plain values.
 */
import { endianness } from 'node:os';
import { StratumError } from '../errors/index.ts';
import { DATATYPES, type Datatype, type NumericArray } from '../tensor/datatypes.ts';
import type { LoggedTensor, TensorToStore } from './inference-log-store.ts';

// Typed arrays hold the platform's byte order; the stored form is little-endian everywhere.
const BIG_ENDIAN = endianness() === 'BE';

interface StoredBinaryTensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly base64: string;
}

type StoredTensor = LoggedTensor | StoredBinaryTensor;

function swapped(bytes: Buffer, size: number): Buffer {
  if (size === 2) return bytes.swap16();
  if (size === 4) return bytes.swap32();
  if (size === 8) return bytes.swap64();
  return bytes;
}

function toBase64(values: NumericArray): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (BIG_ENDIAN ? swapped(Buffer.from(bytes), values.BYTES_PER_ELEMENT) : bytes).toString('base64');
}

function storedForm(tensor: TensorToStore): StoredTensor {
  if (!('values' in tensor)) return tensor;
  return { datatype: tensor.datatype, shape: tensor.shape, base64: toBase64(tensor.values) };
}

/** The JSON document of a record's tensors (by name), numeric ones as base64 bytes. */
export function encodeLoggedTensors(tensors: Readonly<Record<string, TensorToStore>>): string {
  const stored: Record<string, StoredTensor> = {};
  for (const name in tensors) stored[name] = storedForm(tensors[name] as TensorToStore);
  return JSON.stringify(stored);
}

function fromBase64(tensor: StoredBinaryTensor): LoggedTensor {
  const info = DATATYPES[tensor.datatype as Datatype] as (typeof DATATYPES)[Datatype] | undefined;
  const bytes = Buffer.from(tensor.base64, 'base64');
  if (info?.array == null || bytes.length % info.size !== 0) {
    throw new StratumError(
      'INTERNAL',
      `an inference log record holds ${bytes.length} bytes of datatype "${tensor.datatype}", which cannot be read as its elements`,
    );
  }
  // A fresh, aligned buffer: the decoded bytes may sit at any offset of Node's pool.
  const values = new info.array(bytes.length / info.size);
  new Uint8Array(values.buffer).set(BIG_ENDIAN ? swapped(bytes, info.size) : bytes);
  const data =
    values instanceof BigInt64Array || values instanceof BigUint64Array
      ? Array.from(values, Number)
      : Array.from(values as ArrayLike<number>);
  return { datatype: tensor.datatype, shape: tensor.shape, data };
}

/** A record's tensors read back, from either stored form, each with a flat `data` array. */
export function decodeLoggedTensors(text: string): Record<string, LoggedTensor> {
  const stored = JSON.parse(text) as Record<string, StoredTensor>;
  const out: Record<string, LoggedTensor> = {};
  for (const name in stored) {
    const tensor = stored[name] as StoredTensor;
    out[name] = 'base64' in tensor ? fromBase64(tensor) : tensor;
  }
  return out;
}
