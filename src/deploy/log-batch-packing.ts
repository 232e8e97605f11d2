/**
 * Inference log records packed as they are offered, into the message that takes them to the log
 * thread: every tensor's bytes (BYTES elements included) copied once into one buffer, and
 * everything else as JSON tuples, whose tensors name their slice of that buffer, encoded into a
 * second one. Both buffers are transferred, and the thread hands them back with its reply for the
 * next batch (a fresh megabyte per batch cost the serving thread its allocation and page faults).
 *
 * Packing a record when it is offered, not when its batch is flushed, is what keeps the log's cost
 * on the serving thread near its in-process 4 µs: a record held as objects until the flush (every
 * 250 ms) kept its request's body, its batch's outputs and its own objects alive through the
 * young generation's collections, and in a loaded server those collections took ≈ 25 µs more of
 * event-loop time per logged request (`node --trace-gc`). Packed, a record holds nothing on the
 * JavaScript heap. A structured clone of the records as objects had cost a serialisation per
 * record, tensor and shape.
 */
import type { LogRecordHead } from '../store/inference-log-store.ts';
import { DATATYPES, type Datatype, type NumericArray } from '../tensor/datatypes.ts';
import type { RedactionRule, TensorToLog } from './logged-tensor.ts';

/** A record as the request path hands it over, tensors as they were (converted by the sink). */
export interface LogRecordData extends LogRecordHead {
  readonly inputs: readonly TensorToLog[];
  readonly outputs: readonly TensorToLog[];
  readonly redact: Readonly<Record<string, RedactionRule>>;
}

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

/** The two buffers of a batch, kept from one batch to the next. */
export interface LogBatchBuffers {
  /** The tensors' bytes. */
  readonly bytes: ArrayBuffer;
  /** The records' JSON, UTF-8. */
  readonly text: ArrayBuffer;
}

/** A batch ready to post: transfer `bytes` and `text`. */
export interface PackedLogBatch extends LogBatchBuffers {
  /** Records in the batch. */
  readonly count: number;
  /** Bytes of `text` in use: the records' tuples, comma-separated, without the brackets. */
  readonly textLength: number;
}

/** Buffers larger than this are not kept for the next batch (a batch of large tensors stays rare). */
export const MAX_REUSED_BYTES = 16 * 1024 * 1024;

const INITIAL_BYTES = 64 * 1024;
const INITIAL_TEXT = 16 * 1024;
const COMMA = 0x2c;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

// Every slice starts at a multiple of 8, so any typed array can be laid over it.
const align = (n: number): number => (n + 7) & ~7;

/** A buffer of at least `needed` bytes holding the first `used` bytes of `from`. */
function grown(from: Uint8Array, used: number, needed: number): Uint8Array {
  const next = new Uint8Array(Math.max(needed, from.byteLength * 2));
  next.set(from.subarray(0, used));
  return next;
}

/** Packs records one at a time; {@link LogBatchBuilder.seal} gives the batch. */
export class LogBatchBuilder {
  #bytes: Uint8Array;
  #bytesUsed = 0;
  #text: Uint8Array;
  #textUsed = 0;
  #count = 0;

  /** Packs into `reuse` (buffers a batch came back with) while they are large enough. */
  constructor(reuse?: LogBatchBuffers) {
    this.#bytes = new Uint8Array(reuse?.bytes ?? new ArrayBuffer(INITIAL_BYTES));
    this.#text = new Uint8Array(reuse?.text ?? new ArrayBuffer(INITIAL_TEXT));
  }

  /** Records packed so far. */
  get count(): number {
    return this.#count;
  }

  /** Copies a record's tensors and writes its tuple. */
  append(record: LogRecordData): void {
    const tuple: PackedLogRecord = [
      record.requestId,
      record.deployment,
      record.model,
      record.version,
      record.at,
      record.latencyMs,
      record.redact,
      this.#tensors(record.inputs),
      this.#tensors(record.outputs),
    ];
    const json = JSON.stringify(tuple);
    // UTF-8 takes at most 3 bytes per UTF-16 unit, and one more for the separating comma.
    const room = json.length * 3 + 1;
    if (this.#textUsed + room > this.#text.byteLength)
      this.#text = grown(this.#text, this.#textUsed, this.#textUsed + room);
    if (this.#count > 0) this.#text[this.#textUsed++] = COMMA;
    this.#textUsed += utf8.encodeInto(json, this.#text.subarray(this.#textUsed)).written;
    this.#count++;
  }

  /** The batch; the builder is not used after it. */
  seal(): PackedLogBatch {
    return {
      count: this.#count,
      bytes: this.#bytes.buffer as ArrayBuffer,
      text: this.#text.buffer as ArrayBuffer,
      textLength: this.#textUsed,
    };
  }

  #reserve(length: number): number {
    const at = this.#bytesUsed;
    const end = align(at + length);
    if (end > this.#bytes.byteLength) this.#bytes = grown(this.#bytes, at, end);
    this.#bytesUsed = end;
    return at;
  }

  #tensors(tensors: readonly TensorToLog[]): PackedLogTensor[] {
    return tensors.map(({ name, datatype, shape, data }) => {
      if (Array.isArray(data)) {
        let length = 0;
        for (const element of data) length += element.byteLength;
        const at = this.#reserve(length);
        let offset = at;
        const lengths = data.map((element) => {
          this.#bytes.set(element, offset);
          offset += element.byteLength;
          return element.byteLength;
        });
        return [name, datatype, shape, at, lengths];
      }
      const view = data as NumericArray;
      const at = this.#reserve(view.byteLength);
      this.#bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at);
      return [name, datatype, shape, at, view.length];
    });
  }
}

/** Packs a whole batch at once (`reuse`: buffers a batch came back with). */
export function packLogBatch(batch: readonly LogRecordData[], reuse?: LogBatchBuffers): PackedLogBatch {
  const builder = new LogBatchBuilder(reuse);
  for (const record of batch) builder.append(record);
  return builder.seal();
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
  const json = `[${utf8Decoder.decode(new Uint8Array(batch.text, 0, batch.textLength))}]`;
  return (JSON.parse(json) as PackedLogRecord[]).map(
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
