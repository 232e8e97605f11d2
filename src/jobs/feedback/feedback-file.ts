/**
 * Reads a feedback file row by row, streamed (memory does not grow with the file), as the items
 * `POST /api/v1/feedback` takes (`{request_id, label}`), each with its line. A row that is not even
 * an item (a line that is not JSON) comes out as a problem of its own, never skipped.
 *
 * JSON Lines: one object per line with `requestId` (or `request_id`) and `label`. CSV: a header
 * naming a `requestId` (or `request_id`) and a `label` column; a label cell is read as a number
 * when it is one, `true`/`false` as a boolean, `[…]` as a JSON array (one label per row of the
 * request), and as text otherwise; an empty cell is no label.
 */
import { createInterface } from 'node:readline';
import type { ReadStream } from 'node:fs';
import { CsvParser } from '../../data/csv-parser.ts';
import { openTextStream } from '../../data/file-stream.ts';
import { StratumError } from '../../errors/index.ts';
import type { FeedbackFileFormat } from './feedback-payload.ts';

/** One row: an item for the feedback service, or why the line is not one. */
export type FeedbackRow =
  { readonly line: number; readonly item: unknown } | { readonly line: number; readonly invalid: string };

/** An open feedback file: its rows, and how far the read has come (for progress). */
export interface FeedbackFile {
  readonly rows: AsyncIterable<FeedbackRow>;
  bytesRead(): number;
}

const ID_COLUMNS = ['requestId', 'request_id'] as const;

/** Opens `path` (NOT_FOUND naming it when missing). */
export async function openFeedbackFile(options: { path: string; format: FeedbackFileFormat }): Promise<FeedbackFile> {
  const stream = await openTextStream(options.path, { highWaterMark: 1 << 20 });
  return {
    rows: options.format === 'jsonl' ? jsonlRows(stream) : csvRows(stream, options.path),
    bytesRead: () => stream.bytesRead,
  };
}

/** `requestId` → `request_id`, the route's spelling; anything else passes for the service to judge. */
function asItem(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const { requestId, ...rest } = value as Record<string, unknown>;
  return requestId === undefined ? rest : { request_id: requestId, ...rest };
}

async function* jsonlRows(stream: ReadStream): AsyncGenerator<FeedbackRow> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const body = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      if (body.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (error) {
        yield { line, invalid: `not JSON: ${(error as Error).message}` };
        continue;
      }
      yield { line, item: asItem(value) };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** A CSV label cell as a typed value (see the module comment). */
function labelOf(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  const number = Number(trimmed);
  if (Number.isFinite(number)) return number;
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

async function* csvRows(stream: ReadStream, path: string): AsyncGenerator<FeedbackRow> {
  const parser = new CsvParser({ label: path, columnNames: 'first-record' });
  let columns: { id: number; label: number } | undefined;
  function* rows(records: string[][], lines: readonly number[]): Generator<FeedbackRow> {
    for (const [i, record] of records.entries()) {
      if (columns === undefined) {
        columns = headerColumns(record, path);
        continue;
      }
      const line = lines[i] ?? 0;
      const id = record[columns.id];
      const label = labelOf(record[columns.label] ?? '');
      yield { line, item: { request_id: id === '' ? undefined : id, label } };
    }
  }
  try {
    for await (const chunk of stream as AsyncIterable<string>) yield* rows(parser.push(chunk), parser.lines);
    yield* rows(parser.end(), parser.lines);
  } finally {
    stream.destroy();
  }
}

function headerColumns(header: readonly string[], path: string): { id: number; label: number } {
  const names = header.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, '') : name).trim());
  const id = names.findIndex((name) => (ID_COLUMNS as readonly string[]).includes(name));
  const label = names.indexOf('label');
  if (id < 0 || label < 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `${path}: the header must name a requestId (or request_id) and a label column, got ${names.join(', ')}`,
      { details: { file: path, line: 1 } },
    );
  }
  return { id, label };
}
