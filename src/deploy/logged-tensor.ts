/**
 * Tensors as the inference log keeps them: flat JSON arrays (BYTES as UTF-8 strings, 64-bit
 * integers as numbers), with an input's redaction rule applied: `drop` leaves it out, `hash`
 * replaces each element by the first 16 hex digits of its SHA-256, so equal values still match
 * (joins, distinct counts) without the value being readable.
 */
import { createHash } from 'node:crypto';
import type { LoggedTensor, LoggedValue } from '../store/inference-log-store.ts';
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
): Record<string, LoggedTensor> {
  const out: Record<string, LoggedTensor> = {};
  for (const tensor of tensors) {
    const rule = rules[tensor.name];
    if (rule === 'drop') continue;
    const values = plainValues(tensor.data);
    out[tensor.name] =
      rule === 'hash'
        ? { datatype: tensor.datatype, shape: [...tensor.shape], data: values.map(hashValue), redacted: 'hash' }
        : { datatype: tensor.datatype, shape: [...tensor.shape], data: values };
  }
  return out;
}
