/**
 * Tensors as the inference log keeps them, with an input's redaction rule applied: `drop` leaves
 * it out, `hash` replaces each element by the first 16 hex digits of its SHA-256, so equal values
 * still match (joins, distinct counts) without the value being readable. Numeric tensors pass as
 * their typed arrays, which the store writes as raw bytes (`store/logged-tensor-codec.ts`); BYTES
 * become UTF-8 strings and hashed elements hex strings, flat JSON arrays.
 */
import { createHash } from 'node:crypto';
import type { LoggedValue, TensorToStore } from '../store/inference-log-store.ts';
import type { TensorValues } from '../tensor/datatypes.ts';

/** What to do with an input before it is logged. */
export type RedactionRule = 'drop' | 'hash';

/** A tensor to log: an input or an output. */
export interface TensorToLog {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TensorValues;
}

const utf8 = new TextDecoder();

// What a hash is taken of: the value as the log's reader sees it (64-bit integers as numbers), so
// that hashes of rows stored in either form agree.
function plainValues(data: TensorValues): LoggedValue[] {
  if (Array.isArray(data)) return data.map((bytes) => utf8.decode(bytes));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, (v) => Number(v));
  return Array.from(data as ArrayLike<number>);
}

function hashValue(value: LoggedValue): string {
  return createHash('sha256').update(String(value)).digest('hex').slice(0, 16);
}

/** The tensors by name, each redacted by its rule (rules only name inputs; outputs get none). */
export function loggedTensors(
  tensors: readonly TensorToLog[],
  rules: Readonly<Record<string, RedactionRule>> = {},
): Record<string, TensorToStore> {
  const out: Record<string, TensorToStore> = {};
  for (const tensor of tensors) {
    const rule = rules[tensor.name];
    if (rule === 'drop') continue;
    const { datatype, data } = tensor;
    const shape = [...tensor.shape];
    if (rule === 'hash') {
      out[tensor.name] = { datatype, shape, data: plainValues(data).map(hashValue), redacted: 'hash' };
    } else {
      out[tensor.name] = Array.isArray(data)
        ? { datatype, shape, data: plainValues(data) }
        : { datatype, shape, values: data };
    }
  }
  return out;
}
