/**
 * The thread entry of the numeric CSV reader's workers: each request is a byte range of the file,
 * read with blocking I/O (this thread does nothing else) and parsed into one float32 array that is
 * transferred back. Requests are handled one at a time, in the order they arrive.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import {
  CSV_MATRIX_WORKER_READY,
  type CsvMatrixWorkerData,
  type RangeRequest,
  type RangeResponse,
} from './csv-matrix-protocol.ts';
import { type MatrixSink, parseRecords } from './csv-matrix-records.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** Read past the range's end this much at a time to finish its last record. */
const TAIL_CHUNK = 65_536;

const { path, layout } = workerData as CsvMatrixWorkerData;
const port = parentPort;
if (port === null) throw new Error('csv-matrix-worker.ts must run in a worker thread');

/**
 * Buffers kept between requests: touching fresh memory costs a page fault per page, about as much
 * as parsing it, so the read buffer and the output arrays (sent back by the main thread once
 * copied) are filled again rather than allocated per range.
 */
const reusable = { bytes: Buffer.allocUnsafe(0), outputs: [] as ArrayBuffer[] };

/** The read buffer, grown to hold `length` bytes, keeping its first `keep` bytes. */
function readBuffer(length: number, keep: number): Buffer {
  if (reusable.bytes.length < length) {
    const grown = Buffer.allocUnsafe(Math.max(length, reusable.bytes.length * 2));
    reusable.bytes.copy(grown, 0, 0, keep);
    reusable.bytes = grown;
  }
  return reusable.bytes;
}

/** Reads up to `length` bytes at file offset `position` into `bytes` from `offset`; returns the count. */
function readAt(fd: number, target: { bytes: Buffer; offset: number; length: number }, position: number): number {
  const { bytes, offset, length } = target;
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, offset + filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return filled;
}

/** A float32 array of `length` values, in a recycled buffer when one is large enough. */
function outputArray(length: number): Float32Array {
  const index = reusable.outputs.findIndex((buffer) => buffer.byteLength >= length * 4);
  if (index === -1) return new Float32Array(length);
  const [buffer] = reusable.outputs.splice(index, 1);
  return new Float32Array(buffer!, 0, length);
}

function firstBreak(bytes: Buffer, from: number): number {
  const lf = bytes.indexOf(LF, from);
  const cr = bytes.indexOf(CR, from);
  return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
}

function countBreaks(bytes: Buffer, from: number): number {
  let count = 0;
  for (const byte of [LF, CR]) {
    for (let i = bytes.indexOf(byte, from); i !== -1; i = bytes.indexOf(byte, i + 1)) count++;
  }
  return count;
}

/** The range's records: `bytes` from `start`, or undefined when no record starts in the range. */
function readRange(fd: number, request: RangeRequest): { bytes: Buffer; start: number; offset: number } | undefined {
  const offset = request.aligned ? request.start : request.start - 1;
  const length = request.end - offset;
  let bytes = readBuffer(length + TAIL_CHUNK, 0);
  let filled = readAt(fd, { bytes, offset: 0, length }, offset);
  let start = 0;
  if (!request.aligned) {
    const lineBreak = firstBreak(bytes.subarray(0, filled), 0);
    if (lineBreak === -1) return undefined;
    start = lineBreak + 1;
  }
  if (start >= filled) return undefined;
  const last = bytes[filled - 1]!;
  if (last !== LF && last !== CR) {
    // The range's last record goes on past its end: read on to its line break.
    for (;;) {
      bytes = readBuffer(filled + TAIL_CHUNK, filled);
      const read = readAt(fd, { bytes, offset: filled, length: TAIL_CHUNK }, offset + filled);
      if (read === 0) break;
      const lineBreak = firstBreak(bytes.subarray(filled, filled + read), 0);
      if (lineBreak !== -1) {
        filled += lineBreak + 1;
        break;
      }
      filled += read;
    }
  }
  return { bytes: bytes.subarray(0, filled), start, offset };
}

function parseRange(request: RangeRequest): { response: RangeResponse; transfer: ArrayBuffer[] } {
  const { id } = request;
  const fd = openSync(path, 'r');
  try {
    const range = readRange(fd, request);
    if (range === undefined) {
      return {
        response: { id, kind: 'rows', start: request.start, data: new Float32Array(0), rows: 0 },
        transfer: [],
      };
    }
    const { bytes, start, offset } = range;
    if (bytes.indexOf(QUOTE, start) !== -1)
      return { response: { id, kind: 'quoted', start: offset + start }, transfer: [] };
    // Every record ends at a line break or at the end of the file: an upper bound on the rows.
    const capacity = countBreaks(bytes, start) + 1;
    const sink: MatrixSink = {
      data: outputArray(capacity * layout.width),
      rows: 0,
      capacity,
      grow() {
        throw new Error('csv-matrix-worker: more records than line breaks');
      },
    };
    const result = parseRecords({ bytes, start, end: bytes.length, offset }, layout, sink);
    if (result.failure !== undefined)
      return { response: { id, kind: 'failure', failure: result.failure }, transfer: [] };
    const buffer = sink.data.buffer as ArrayBuffer;
    return {
      response: { id, kind: 'rows', start: offset + start, data: sink.data, rows: result.rows },
      transfer: [buffer],
    };
  } finally {
    closeSync(fd);
  }
}

port.on('message', (request: RangeRequest) => {
  if (request.recycled !== undefined) reusable.outputs.push(request.recycled);
  let reply: { response: RangeResponse; transfer: ArrayBuffer[] };
  try {
    reply = parseRange(request);
  } catch (error) {
    reply = { response: { id: request.id, kind: 'error', message: String(error) }, transfer: [] };
  }
  port.postMessage(reply.response, reply.transfer);
});
port.postMessage(CSV_MATRIX_WORKER_READY);
