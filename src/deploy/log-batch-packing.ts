/**
 * A batch of inference log records as one message to the log thread: every numeric tensor's bytes
 * copied once into one buffer, which is transferred, and the records as plain objects that name
 * their slice of it. A structured clone of the records as they are would copy each typed array's
 * whole buffer (a request body, a batch's outputs) and pay the clone's per-array cost on the
 * serving thread, record after record.
 */
import { DATATYPES, type Datatype, type NumericArray } from '../tensor/datatypes.ts';
import type { LogRecordData } from './inference-log-sink.ts';
import type { TensorToLog } from './logged-tensor.ts';

/** A tensor in a packed batch: its elements at `offset` (bytes) of the batch's buffer, or BYTES as they were. */
type PackedLogTensor =
  | {
      readonly name: string;
      readonly datatype: string;
      readonly shape: readonly number[];
      readonly offset: number;
      readonly length: number;
    }
  | {
      readonly name: string;
      readonly datatype: string;
      readonly shape: readonly number[];
      readonly data: Uint8Array[];
    };

/** A record of a packed batch. */
export type PackedLogRecord = Omit<LogRecordData, 'inputs' | 'outputs'> & {
  readonly inputs: readonly PackedLogTensor[];
  readonly outputs: readonly PackedLogTensor[];
};

/** A batch ready to post: transfer `bytes`. */
export interface PackedLogBatch {
  readonly records: readonly PackedLogRecord[];
  readonly bytes: ArrayBuffer;
}

// Every slice starts at a multiple of 8, so any typed array can be laid over it.
const align = (n: number): number => (n + 7) & ~7;

function numericBytes(tensors: readonly TensorToLog[]): number {
  let total = 0;
  for (const t of tensors) if (!Array.isArray(t.data)) total += align((t.data as NumericArray).byteLength);
  return total;
}

/** Copies the records' numeric tensors into one buffer. */
export function packLogBatch(batch: readonly LogRecordData[]): PackedLogBatch {
  let total = 0;
  for (const r of batch) total += numericBytes(r.inputs) + numericBytes(r.outputs);
  const bytes = new ArrayBuffer(total);
  const target = new Uint8Array(bytes);
  let offset = 0;
  const pack = (tensors: readonly TensorToLog[]): PackedLogTensor[] =>
    tensors.map(({ name, datatype, shape, data }) => {
      if (Array.isArray(data)) return { name, datatype, shape, data };
      const view = data as NumericArray;
      const at = offset;
      target.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at);
      offset += align(view.byteLength);
      return { name, datatype, shape, offset: at, length: view.length };
    });
  const records = batch.map((r) => ({ ...r, inputs: pack(r.inputs), outputs: pack(r.outputs) }));
  return { records, bytes };
}

function unpack(tensors: readonly PackedLogTensor[], bytes: ArrayBuffer): TensorToLog[] {
  return tensors.map((t) => {
    if ('data' in t) return t;
    const Values = DATATYPES[t.datatype as Datatype].array as NonNullable<(typeof DATATYPES)[Datatype]['array']>;
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: new Values(bytes, t.offset, t.length) };
  });
}

/** The records of a packed batch, their tensors views into its buffer. */
export function unpackLogBatch(batch: PackedLogBatch): LogRecordData[] {
  return batch.records.map((r) => ({
    ...r,
    inputs: unpack(r.inputs, batch.bytes),
    outputs: unpack(r.outputs, batch.bytes),
  }));
}
