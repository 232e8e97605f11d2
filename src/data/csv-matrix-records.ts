/**
 * The hot loop of the numeric CSV reader: complete records in a byte buffer become float32 rows,
 * written straight into the caller's matrix, with no string built per field unless a field leaves
 * the fast path (see csv-matrix-number.ts). Records follow csv-parser.ts (LF, CRLF or lone CR end
 * them, blank lines are skipped, a field may be quoted) except that a quoted field may not span
 * lines: a record then always ends at the first line break, which lets the caller cut the input at
 * line breaks and parse pieces independently (in chunks, or in worker threads). Failures are
 * returned as data with the file offset of the record, so a worker can send them back and the
 * main thread can name the record's line in the file.
 */
import { parseNumber } from './column-schema.ts';
import { NOT_FAST, type ScanTarget, scanNumber } from './csv-matrix-number.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** How the fields of a record map to the columns of a matrix row. */
export interface MatrixLayout {
  /** The field separator, one byte. */
  readonly delimiter: number;
  /** Fields per record (the header's). */
  readonly fieldCount: number;
  /** For each field, its column in the matrix row, or -1 when the field is not read. */
  readonly targets: Int32Array;
  /** Columns per matrix row. */
  readonly width: number;
}

/** Why a record could not be read; `at` is the file offset where the record starts. */
export type MatrixFailure =
  | { readonly kind: 'fields'; readonly at: number; readonly fields: number }
  | { readonly kind: 'value'; readonly at: number; readonly field: number; readonly text: string }
  /** A number beyond float32's range (|x| > 3.4e38), which would be stored as ±Infinity. */
  | { readonly kind: 'range'; readonly at: number; readonly field: number; readonly text: string }
  | { readonly kind: 'multiline'; readonly at: number; readonly field: number }
  | { readonly kind: 'after-quote'; readonly at: number; readonly field: number; readonly text: string };

/** Where rows are written: `rows` of `capacity` are filled in `data`; `grow()` makes room. */
export interface MatrixSink {
  data: Float32Array;
  rows: number;
  capacity: number;
  /** Called when `rows === capacity`; afterwards `rows < capacity` (a new batch or a larger array). */
  grow(): void;
}

/** Complete records: `bytes[start, end)` ends with a line break or at the end of the file. */
export interface RecordInput {
  readonly bytes: Buffer;
  readonly start: number;
  readonly end: number;
  /** The file offset of `bytes[0]`, so that failures give file offsets. */
  readonly offset: number;
}

/** How many records were read, and the failure that stopped the reading, if any. */
export interface RecordResult {
  readonly rows: number;
  readonly failure: MatrixFailure | undefined;
}

function isBreak(byte: number): boolean {
  return byte === LF || byte === CR;
}

/** The position of the quote closing the field opened at `open`, or -1 when a line break or the end comes first. */
function closingQuote(bytes: Buffer, open: number, end: number): number {
  for (let j = open + 1; j < end; j++) {
    const c = bytes[j];
    if (c === QUOTE) {
      if (j + 1 < end && bytes[j + 1] === QUOTE) j++;
      else return j;
    } else if (c === LF || c === CR) {
      return -1;
    }
  }
  return -1;
}

/** The end of the unquoted field starting at `start`. */
function unquotedEnd(bytes: Buffer, start: number, input: { end: number; delimiter: number }): number {
  let j = start;
  while (j < input.end) {
    const c = bytes[j]!;
    if (c === input.delimiter || c === LF || c === CR) break;
    j++;
  }
  return j;
}

/** The fields of the record at `start`, counted as csv-parser.ts would; -1 when a quoted field spans lines. */
function countFields(bytes: Buffer, start: number, input: { end: number; delimiter: number }): number {
  let fields = 1;
  let i = start;
  for (;;) {
    if (i < input.end && bytes[i] === QUOTE) {
      const close = closingQuote(bytes, i, input.end);
      if (close === -1) return -1;
      i = close + 1;
    }
    i = unquotedEnd(bytes, i, input);
    if (i >= input.end || bytes[i] !== input.delimiter) return fields;
    fields++;
    i++;
  }
}

/**
 * Parses the records of `input` into `sink`, one matrix row per non-blank record: an empty field
 * is NaN (missing), any other field must be a number as `parseNumber` reads it.
 */
export function parseRecords(input: RecordInput, layout: MatrixLayout, sink: MatrixSink): RecordResult {
  const { bytes, end } = input;
  const { delimiter, fieldCount, targets, width } = layout;
  const bounds = { end, delimiter };
  const target: ScanTarget = { bytes, out: sink.data, index: 0 };
  const last = fieldCount - 1;
  let rows = 0;
  let i = input.start;

  /** A record's failure, unless its field count is wrong, which csv-source.ts reports first. */
  const fail = (recordStart: number, failure: MatrixFailure): RecordResult => {
    const fields = countFields(bytes, recordStart, bounds);
    const at = input.offset + recordStart;
    const reported = fields !== -1 && fields !== fieldCount ? { kind: 'fields' as const, at, fields } : failure;
    return { rows, failure: reported };
  };

  while (i < end) {
    if (isBreak(bytes[i]!)) {
      i++;
      continue;
    }
    if (sink.rows === sink.capacity) {
      sink.grow();
      target.out = sink.data;
    }
    const data = target.out;
    const base = sink.rows * width;
    const recordStart = i;
    const at = input.offset + i;
    for (let field = 0; ; field++) {
      const column = targets[field]!;
      const c = i < end ? bytes[i]! : LF;
      if (c === QUOTE) {
        const close = closingQuote(bytes, i, end);
        if (close === -1) return fail(recordStart, { kind: 'multiline', at, field });
        const after = close + 1;
        if (after < end && bytes[after] !== delimiter && !isBreak(bytes[after]!)) {
          return fail(recordStart, { kind: 'after-quote', at, field, text: bytes.toString('utf8', after, after + 1) });
        }
        if (column >= 0) {
          const index = base + column;
          target.index = index;
          if (close === i + 1) data[index] = Number.NaN;
          else if (scanNumber(target, i + 1, close) !== close) {
            const text = bytes.toString('utf8', i + 1, close).replaceAll('""', '"');
            const value = parseNumber(text);
            if (value === undefined) return fail(recordStart, { kind: 'value', at, field, text });
            data[index] = value;
            if (data[index] !== value && !Number.isFinite(data[index]) && Number.isFinite(value))
              return fail(recordStart, { kind: 'range', at, field, text });
          }
        }
        i = after;
      } else if (column < 0) {
        i = unquotedEnd(bytes, i, bounds);
      } else if (c === delimiter || c === LF || c === CR) {
        data[base + column] = Number.NaN;
      } else {
        const index = base + column;
        target.index = index;
        const stop = scanNumber(target, i, end);
        const next = stop === NOT_FAST || stop >= end ? LF : bytes[stop]!;
        if (stop !== NOT_FAST && (next === delimiter || next === LF || next === CR)) {
          i = stop;
        } else {
          const fieldEnd = unquotedEnd(bytes, i, bounds);
          const text = bytes.toString('utf8', i, fieldEnd);
          const value = parseNumber(text);
          if (value === undefined) return fail(recordStart, { kind: 'value', at, field, text });
          data[index] = value;
          // Only the slow path can overflow: the fast one stops below 1e38.
          if (data[index] !== value && !Number.isFinite(data[index]) && Number.isFinite(value))
            return fail(recordStart, { kind: 'range', at, field, text });
          i = fieldEnd;
        }
      }
      // bytes[i] now ends the field: a delimiter, a line break or the end of the input.
      if (i < end && bytes[i] === delimiter) {
        i++;
        if (field === last)
          return fail(recordStart, { kind: 'fields', at, fields: countFields(bytes, recordStart, bounds) });
        continue;
      }
      if (field !== last) return fail(recordStart, { kind: 'fields', at, fields: field + 1 });
      break;
    }
    sink.rows++;
    rows++;
  }
  return { rows, failure: undefined };
}
