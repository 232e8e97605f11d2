/**
 * A batch of inference log records as one message to the log thread: every tensor's bytes (BYTES
 * elements included) copied once into one buffer, which is transferred, and everything else in one
 * JSON string of tuples, whose tensors name their slice of the buffer. The serving thread pays one
 * copy per tensor and one `JSON.stringify` (tuples: about half the text of objects); a structured
 * clone of the records as objects cost it a serialisation per record, tensor and shape (and, of the
 * typed arrays as they were, their whole buffers: a request body, a batch's outputs). The thread
 * hands the buffer back with its reply, and the next batch is packed into it: a fresh megabyte
 * per batch cost the serving thread its allocation and page faults.
 */
import { DATATYPES, type Datatype, type NumericArray } from '../tensor/datatypes.ts';
import type { LogRecordData } from './inference-log-sink.ts';
import type { RedactionRule, TensorToLog } from './logged-tensor.ts';

/**
 * A tensor in a packed batch: name, datatype, shape, its bytes' offset in the batch's buffer, and
 * the number of elements of a numeric datatype, or the byte length of each BYTES element (stored
 * one after another).
 */
type PackedLogTensor = readonly [string, string, readonly number[], number, number | readonly number[]];

/** A record of a packed batch: request id, deployment, model, version, at, latency, redaction, inputs, outputs. */
type PackedLogRecord = readonly [
  string,
  string,
  string,
  string,
  number,
  number,
  Readonly<Record<string, RedactionRule>>,
  readonly PackedLogTensor[],
  readonly PackedLogTensor[],
];

/** A batch ready to post: transfer `bytes`. */
export interface PackedLogBatch {
  /** The records as JSON tuples, tensors by their place in `bytes`. */
  readonly records: string;
  /** The tensors' bytes, from the start; past them, whatever an earlier batch left. */
  readonly bytes: ArrayBuffer;
}

/** Buffers larger than this are not kept for the next batch (a batch of large tensors stays rare). */
export const MAX_REUSED_BYTES = 16 * 1024 * 1024;

// Every slice starts at a multiple of 8, so any typed array can be laid over it.
const align = (n: number): number => (n + 7) & ~7;

function tensorBytes(tensors: readonly TensorToLog[]): number {
  let total = 0;
  for (const { data } of tensors) {
    if (Array.isArray(data)) for (const element of data) total += element.byteLength;
    else total += (data as NumericArray).byteLength;
    total = align(total);
  }
  return total;
}

/**
 * Copies the records' tensors into one buffer (`reuse`, when it is large enough: a buffer the
 * thread gave back) and the rest into one string.
 */
export function packLogBatch(batch: readonly LogRecordData[], reuse?: ArrayBuffer): PackedLogBatch {
  let total = 0;
  for (const r of batch) total += tensorBytes(r.inputs) + tensorBytes(r.outputs);
  const bytes = reuse !== undefined && reuse.byteLength >= total ? reuse : new ArrayBuffer(total);
  const target = new Uint8Array(bytes);
  let offset = 0;
  const pack = (tensors: readonly TensorToLog[]): PackedLogTensor[] =>
    tensors.map(({ name, datatype, shape, data }) => {
      const at = offset;
      if (Array.isArray(data)) {
        const lengths = data.map((element) => {
          target.set(element, offset);
          offset += element.byteLength;
          return element.byteLength;
        });
        offset = align(offset);
        return [name, datatype, shape, at, lengths];
      }
      const view = data as NumericArray;
      target.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at);
      offset = align(offset + view.byteLength);
      return [name, datatype, shape, at, view.length];
    });
  const records = batch.map((r): PackedLogRecord => [
    r.requestId,
    r.deployment,
    r.model,
    r.version,
    r.at,
    r.latencyMs,
    r.redact,
    pack(r.inputs),
    pack(r.outputs),
  ]);
  return { records: JSON.stringify(records), bytes };
}

function unpack(tensors: readonly PackedLogTensor[], bytes: ArrayBuffer): TensorToLog[] {
  return tensors.map(([name, datatype, shape, offset, size]) => {
    if (typeof size !== 'number') {
      let at = offset;
      const data = size.map((length) => {
        const element = new Uint8Array(bytes, at, length);
        at += length;
        return element;
      });
      return { name, datatype, shape, data };
    }
    const Values = DATATYPES[datatype as Datatype].array as NonNullable<(typeof DATATYPES)[Datatype]['array']>;
    return { name, datatype, shape, data: new Values(bytes, offset, size) };
  });
}

/** The records of a packed batch, their tensors views into its buffer. */
export function unpackLogBatch(batch: PackedLogBatch): LogRecordData[] {
  return (JSON.parse(batch.records) as PackedLogRecord[]).map(
    ([requestId, deployment, model, version, at, latencyMs, redact, inputs, outputs]) => ({
      requestId,
      deployment,
      model,
      version,
      at,
      latencyMs,
      redact,
      inputs: unpack(inputs, batch.bytes),
      outputs: unpack(outputs, batch.bytes),
    }),
  );
}
