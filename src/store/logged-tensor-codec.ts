/**
 * How the inference log keeps a record's tensors in its `inputs` and `outputs` columns: one binary
 * value per column (a BLOB on SQLite, BYTEA on PostgreSQL, migration 016). It starts with a magic
 * (`\0SL\x01`) and the byte length of a JSON header that names each tensor (name, datatype, shape);
 * a numeric tensor's raw little-endian bytes follow the header, each at a multiple of 8, while text,
 * hashed and hand-built tensors keep their flat `data` array inside the header. SQLite's cost per
 * record follows the bytes it writes, so raw bytes (3.1 KB for 784 FP32 values) beat base64 in
 * JSON (4.2 KB, and a pass through the JSON escaper). Reading accepts every form the log has
 * written: this one, JSON text with `base64` bytes, and JSON text with decimal `data` arrays (the
 * first form), as text or, on PostgreSQL after migration 016, as the UTF-8 bytes of that text.
 */
import { endianness } from 'node:os';
import { StratumError } from '../errors/index.ts';
import { DATATYPES, type Datatype, type NumericArray } from '../tensor/datatypes.ts';
import type { LoggedTensor, TensorToStore } from './inference-log-store.ts';

// Typed arrays hold the platform's byte order; the stored form is little-endian everywhere.
const BIG_ENDIAN = endianness() === 'BE';

// A JSON document never starts with a NUL byte, so the first byte tells the forms apart.
const MAGIC = Buffer.from([0, 0x53, 0x4c, 1]);
const PREFIX_BYTES = 8;

/** A header entry: a tensor whose bytes follow the header (`bytes` long), or one kept as JSON. */
type HeaderEntry =
  | { readonly name: string; readonly datatype: string; readonly shape: readonly number[]; readonly bytes: number }
  | ({ readonly name: string } & LoggedTensor);

interface StoredBase64Tensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly base64: string;
}

// Every tensor's bytes start at a multiple of 8 from the start of the value.
const align = (n: number): number => (n + 7) & ~7;

function swapped(bytes: Buffer, size: number): Buffer {
  if (size === 2) return bytes.swap16();
  if (size === 4) return bytes.swap32();
  if (size === 8) return bytes.swap64();
  return bytes;
}

function bytesOf(values: NumericArray): Buffer {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return BIG_ENDIAN ? swapped(Buffer.from(bytes), values.BYTES_PER_ELEMENT) : bytes;
}

/** The stored value of a record's tensors (by name): numeric ones as raw bytes after a JSON header. */
export function encodeLoggedTensors(tensors: Readonly<Record<string, TensorToStore>>): Buffer {
  const header: HeaderEntry[] = [];
  const raw: Buffer[] = [];
  for (const name in tensors) {
    const tensor = tensors[name] as TensorToStore;
    if ('values' in tensor) {
      const bytes = bytesOf(tensor.values);
      header.push({ name, datatype: tensor.datatype, shape: tensor.shape, bytes: bytes.length });
      raw.push(bytes);
    } else {
      header.push({ name, ...tensor });
    }
  }
  const text = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(text);
  let total = align(PREFIX_BYTES + headerBytes);
  for (const bytes of raw) total = align(total + bytes.length);
  // Not zero-filled (the pool serves small values): every byte is written below, padding included,
  // so nothing of the pool's earlier contents reaches the database.
  const out = Buffer.allocUnsafe(total);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerBytes, 4);
  let offset = PREFIX_BYTES + out.write(text, PREFIX_BYTES, 'utf8');
  for (const bytes of raw) {
    const start = align(offset);
    out.fill(0, offset, start);
    offset = start + bytes.copy(out, start);
  }
  out.fill(0, offset, total);
  return out;
}

function malformed(reason: string): StratumError {
  return new StratumError('INTERNAL', `an inference log record cannot be read: ${reason}`);
}

function plainValues(datatype: string, bytes: Uint8Array): LoggedTensor['data'] {
  const info = DATATYPES[datatype as Datatype] as (typeof DATATYPES)[Datatype] | undefined;
  if (info?.array == null || bytes.length % info.size !== 0) {
    throw malformed(`it holds ${bytes.length} bytes of datatype "${datatype}", which are not whole elements`);
  }
  // A fresh, aligned buffer: the bytes may sit at any offset of the value they came in.
  const values = new info.array(bytes.length / info.size);
  const target = new Uint8Array(values.buffer);
  target.set(bytes);
  if (BIG_ENDIAN) swapped(Buffer.from(target.buffer), info.size);
  return values instanceof BigInt64Array || values instanceof BigUint64Array
    ? Array.from(values, Number)
    : Array.from(values as ArrayLike<number>);
}

function decodeBinary(value: Uint8Array): Record<string, LoggedTensor> {
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (view.length < PREFIX_BYTES) throw malformed(`its value is ${view.length} bytes long`);
  const headerBytes = view.readUInt32LE(4);
  if (PREFIX_BYTES + headerBytes > view.length) throw malformed('its header runs past the end of the value');
  const header = JSON.parse(view.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as HeaderEntry[];
  const out: Record<string, LoggedTensor> = {};
  let offset = PREFIX_BYTES + headerBytes;
  for (const entry of header) {
    if (!('bytes' in entry)) {
      const { name, ...tensor } = entry;
      out[name] = tensor;
      continue;
    }
    const start = align(offset);
    offset = start + entry.bytes;
    if (offset > view.length) throw malformed(`the bytes of "${entry.name}" run past the end of the value`);
    out[entry.name] = {
      datatype: entry.datatype,
      shape: entry.shape,
      data: plainValues(entry.datatype, view.subarray(start, offset)),
    };
  }
  return out;
}

function decodeJson(text: string): Record<string, LoggedTensor> {
  const stored = JSON.parse(text) as Record<string, LoggedTensor | StoredBase64Tensor>;
  const out: Record<string, LoggedTensor> = {};
  for (const name in stored) {
    const tensor = stored[name] as LoggedTensor | StoredBase64Tensor;
    out[name] =
      'base64' in tensor
        ? {
            datatype: tensor.datatype,
            shape: tensor.shape,
            data: plainValues(tensor.datatype, Buffer.from(tensor.base64, 'base64')),
          }
        : tensor;
  }
  return out;
}

/** A stored value as the drivers return it: text, or bytes (PostgreSQL: a Buffer; SQLite: an ArrayBuffer). */
export type StoredTensors = string | Uint8Array | ArrayBuffer;

/**
 * A record's tensors read back from any stored form, each with a flat `data` array: the binary
 * value, or a JSON document (decimal or base64), as text or as its UTF-8 bytes.
 */
export function decodeLoggedTensors(value: StoredTensors): Record<string, LoggedTensor> {
  if (typeof value === 'string') return decodeJson(value);
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
  if (bytes.length >= MAGIC.length && MAGIC.every((byte, i) => bytes[i] === byte)) return decodeBinary(bytes);
  return decodeJson(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}
