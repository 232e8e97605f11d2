/**
 * Streams an Arrow IPC file (or stream) as a dataset of rows, one record batch at a time, with the
 * pure-JS `apache-arrow` reader. Values are plain JS as for the DuckDB sources (`table-row.ts`):
 * 64-bit integers become numbers (refused beyond ±2^53), dates and timestamps epoch milliseconds,
 * dictionary-encoded columns their decoded values.
 */
import { DataType, type Field, RecordBatchReader, type Vector } from 'apache-arrow';
import { StratumError } from '../errors/index.ts';
import { Dataset } from './dataset.ts';
import { openFile } from './file-stream.ts';
import { type TableRow, type TableValue, type ValueOrigin, safeNumber } from './table-row.ts';

type Convert = (value: unknown) => TableValue;

const identity: Convert = (value) => value as TableValue;

/**
 * A dataset of the rows of the Arrow IPC file or stream at `path` (`.arrow`, `.feather` v2,
 * `.arrows`). Each iteration reads the file again, a record batch at a time.
 *
 * @example
 * ```ts
 * const flights = arrowDataset('flights-200k.arrow');
 * console.log(await flights.take(1).toArray()); // [{ delay: 0, distance: 1452, time: 0 }]
 * ```
 */
export function arrowDataset(path: string): Dataset<TableRow> {
  return new Dataset(() => readArrow(path));
}

function unreadable(path: string, error: unknown): StratumError {
  if (error instanceof StratumError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StratumError('BAD_REQUEST', `${path}: not a readable Arrow IPC file or stream: ${reason}`, {
    cause: error,
    details: { file: path },
  });
}

async function* readArrow(path: string): AsyncGenerator<TableRow> {
  const file = await openFile(path);
  try {
    let reader;
    try {
      reader = await RecordBatchReader.from(file);
      await reader.open();
    } catch (error) {
      throw unreadable(path, error);
    }
    const fields = reader.schema.fields;
    const names = fields.map((field) => field.name);
    const converters = fields.map((field) => converterFor(field, field.type, path));
    const batches = reader[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next;
        try {
          next = await batches.next();
        } catch (error) {
          throw unreadable(path, error);
        }
        if (next.done === true) return;
        const batch = next.value;
        const columns = fields.map((_, index) => batch.getChildAt(index) as Vector);
        const rows = new Array<TableRow>(batch.numRows);
        for (let row = 0; row < batch.numRows; row++) {
          const out: TableRow = {};
          for (let index = 0; index < names.length; index++) {
            const value: unknown = (columns[index] as Vector).get(row);
            out[names[index] as string] = value === null ? null : (converters[index] as Convert)(value);
          }
          rows[row] = out;
        }
        yield* rows;
      }
    } finally {
      await batches.return?.();
    }
  } finally {
    await file.close();
  }
}

/** How values of `type` become plain JS; BAD_REQUEST naming the column for types with no scalar form. */
function converterFor(field: Field, type: DataType, path: string): Convert {
  if (DataType.isInt(type) && type.bitWidth === 64) {
    const origin: ValueOrigin = { label: path, column: field.name };
    return (value) => safeNumber(value as bigint, origin);
  }
  if (
    DataType.isNull(type) ||
    DataType.isBool(type) ||
    DataType.isInt(type) ||
    DataType.isFloat(type) ||
    DataType.isUtf8(type) ||
    DataType.isLargeUtf8(type)
  ) {
    return identity;
  }
  // apache-arrow reads dates and timestamps as epoch ms already; finer units come fractional.
  if (DataType.isDate(type) || DataType.isTimestamp(type)) return (value) => Math.floor(value as number);
  if (DataType.isDictionary(type)) return converterFor(field, type.dictionary, path);
  throw new StratumError(
    'BAD_REQUEST',
    `${path}: column "${field.name}" has Arrow type ${String(type)}, which has no plain JS value (supported: integers, floats, strings, booleans, dates, timestamps, dictionaries of these)`,
    { details: { file: path, column: field.name } },
  );
}
