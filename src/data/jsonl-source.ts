/**
 * Streams a JSON Lines file (one JSON object per line) as a dataset, line by line. With a schema,
 * declared keys must be present with their types (null is a missing value) and only they are kept;
 * without one, objects are yielded as parsed. Errors name the file and the 1-based line (every
 * physical line counts, blank ones included; blank lines are skipped).
 */
import { createInterface } from 'node:readline';
import { StratumError } from '../errors/index.ts';
import {
  type CellValue,
  type ColumnSchema,
  type LineRow,
  type RowOf,
  convertJson,
  describeReceived,
  describeType,
  typeMismatch,
  validateSchema,
} from './column-schema.ts';
import { Dataset } from './dataset.ts';
import { openTextStream } from './file-stream.ts';

/** An object read from a JSON Lines file without a schema. */
export type JsonlRecord = Record<string, unknown>;

/** Options of {@link jsonlDataset}. */
export interface JsonlDatasetOptions {
  /** Declared keys and their types; other keys are left out. Without a schema, objects pass as parsed. */
  readonly schema?: ColumnSchema;
  /** Called after every chunk with the bytes read so far (progress reporting). */
  readonly onProgress?: (bytesRead: number) => void;
}

/**
 * A dataset of the objects in the JSON Lines file at `path`, streamed.
 *
 * @example
 * ```ts
 * const events = jsonlDataset('events.jsonl', { schema: { user: 'string', at: 'date' } });
 * console.log(await events.take(3).toArray());
 * ```
 */
export function jsonlDataset<const S extends ColumnSchema>(
  path: string,
  options: JsonlDatasetOptions & { readonly schema: S },
): Dataset<RowOf<S>>;
export function jsonlDataset(path: string, options?: JsonlDatasetOptions): Dataset<JsonlRecord>;
export function jsonlDataset(path: string, options: JsonlDatasetOptions = {}): Dataset<JsonlRecord> {
  if (options.schema !== undefined) validateSchema(options.schema, path);
  return new Dataset(() => readJsonl({ path, options, emit: (row) => row }));
}

/**
 * {@link jsonlDataset}, each object with its line in the file, for callers that check the rows
 * further and name the line in their own messages (the training reader does).
 */
export function jsonlDatasetWithLines(path: string, options: JsonlDatasetOptions = {}): Dataset<LineRow<JsonlRecord>> {
  if (options.schema !== undefined) validateSchema(options.schema, path);
  return new Dataset(() => readJsonl({ path, options, emit: (row, line) => ({ row, line }) }));
}

async function* readJsonl<T>(read: {
  path: string;
  options: JsonlDatasetOptions;
  emit: (row: JsonlRecord, line: number) => T;
}): AsyncGenerator<T> {
  const { path, options, emit } = read;
  const stream = await openTextStream(path);
  const { onProgress } = options;
  if (onProgress !== undefined) stream.on('data', () => onProgress(stream.bytesRead));
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const schema = options.schema === undefined ? undefined : Object.entries(options.schema);
  let lineNumber = 0;
  let records = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      const text = lineNumber === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      if (text.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new StratumError(
          'BAD_REQUEST',
          `${path}: line ${lineNumber}: not valid JSON: ${(error as Error).message}`,
          { details: { file: path, line: lineNumber }, cause: error },
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new StratumError(
          'BAD_REQUEST',
          `${path}: line ${lineNumber}: expected a JSON object, got ${describeReceived(parsed)}`,
          { details: { file: path, line: lineNumber } },
        );
      }
      records++;
      const object = parsed as JsonlRecord;
      if (schema === undefined) {
        yield emit(object, lineNumber);
        continue;
      }
      const row: Record<string, CellValue> = {};
      for (const [column, type] of schema) {
        if (!Object.hasOwn(object, column)) {
          throw new StratumError(
            'BAD_REQUEST',
            `${path}: line ${lineNumber}: column "${column}" is declared in the schema but missing (use null for a missing value)`,
            { details: { file: path, line: lineNumber, column } },
          );
        }
        const value = convertJson(object[column], type);
        if (value === undefined) {
          throw typeMismatch({ label: path, line: lineNumber, column }, describeType(type), object[column]);
        }
        row[column] = value;
      }
      yield emit(row, lineNumber);
    }
    if (records === 0) throw new StratumError('BAD_REQUEST', `${path}: the dataset is empty (no JSON objects)`);
  } finally {
    lines.close();
    stream.destroy();
  }
}
