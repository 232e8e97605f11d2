/**
 * Column schemas shared by the file sources: the declared type of each column, the row type it
 * implies (the schema is the type), and the conversion of raw text with errors that name the file,
 * the line (or row) and the column.
 */
import { StratumError } from '../errors/index.ts';

/** The type of a column's values. */
export type ColumnType = 'number' | 'string' | 'boolean' | 'date';

/** Column name → type. */
export type ColumnSchema = Readonly<Record<string, ColumnType>>;

/** The value type of a {@link ColumnType}. */
export type ColumnValue<C extends ColumnType> = C extends 'number'
  ? number
  : C extends 'boolean'
    ? boolean
    : C extends 'date'
      ? Date
      : string;

/** A row of a dataset read with schema `S`; a missing value is `null`. */
export type RowOf<S extends ColumnSchema> = { -readonly [K in keyof S]: ColumnValue<S[K]> | null };

/** Any cell of a row read from a file. */
export type CellValue = number | string | boolean | Date | null;

/** A row with the line of the file it starts on (`csvDatasetWithLines`, `jsonlDatasetWithLines`). */
export interface LineRow<T> {
  readonly row: T;
  /** The 1-based line of the file the row starts on. */
  readonly line: number;
}

const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>(['number', 'string', 'boolean', 'date']);

/** Checks that every type in `schema` is known; `label` names the file in the message. */
export function validateSchema(schema: ColumnSchema, label: string): void {
  const names = Object.keys(schema);
  if (names.length === 0) throw new StratumError('BAD_REQUEST', `${label}: the schema declares no columns`);
  for (const name of names) {
    const type = schema[name];
    if (type === undefined || !COLUMN_TYPES.has(type)) {
      throw new StratumError(
        'BAD_REQUEST',
        `${label}: schema column "${name}": unknown type ${JSON.stringify(type)} (use number, string, boolean or date)`,
      );
    }
  }
}

/**
 * Where a value came from, for error messages: `data.csv: line 9, column 2 "delay"`. Files are
 * numbered by line as an editor shows them (the header is line 1, every line counts); sources
 * without lines (tables, queries) by row from 1.
 */
export interface CellLocation {
  /** The file, as the caller named it. */
  readonly label: string;
  /** The 1-based line of the file the record starts on. */
  readonly line?: number;
  /** The 1-based row, for sources without lines; ignored when `line` is given. */
  readonly row?: number;
  /** The column name. */
  readonly column: string;
  /** The column's 1-based position in the record, when the source has positions (CSV). */
  readonly columnNumber?: number;
}

/** `column 3 "age"`, or `column "age"` without a position. */
export function describeColumn(name: string, columnNumber?: number): string {
  return columnNumber === undefined
    ? `column ${JSON.stringify(name)}`
    : `column ${columnNumber} ${JSON.stringify(name)}`;
}

/** `data.csv: line 9, column 2 "delay"`: the start of every message about one cell. */
export function describeCell(location: CellLocation): string {
  const { label, line, row, column, columnNumber } = location;
  const position = line !== undefined ? `line ${line}, ` : row !== undefined ? `row ${row}, ` : '';
  return `${label}: ${position}${describeColumn(column, columnNumber)}`;
}

/** The `details` of an error about one cell: file, line or row, column and its position. */
export function cellDetails(location: CellLocation): Record<string, string | number> {
  const { label, line, row, column, columnNumber } = location;
  return {
    file: label,
    ...(line !== undefined ? { line } : row !== undefined ? { row } : {}),
    column,
    ...(columnNumber !== undefined && { columnNumber }),
  };
}

/** Shortens a received value for a message. */
export function describeReceived(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : JSON.stringify(value);
  const shown = text ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}…` : shown;
}

/** The error for a value that does not have its column's type. */
export function typeMismatch(location: CellLocation, expected: string, received: unknown): StratumError {
  return new StratumError(
    'BAD_REQUEST',
    `${describeCell(location)}: expected ${expected}, got ${describeReceived(received)}`,
    { details: { ...cellDetails(location), expected } },
  );
}

const ARTICLE: Readonly<Record<ColumnType, string>> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true/false/1/0)',
  date: 'a date (ISO 8601)',
};

/** How a type is named in messages ("a number"). */
export function describeType(type: ColumnType): string {
  return ARTICLE[type];
}

/** Parses a number, or undefined when `text` is not one. */
export function parseNumber(text: string): number | undefined {
  const value = Number(text);
  if (Number.isNaN(value)) return text.trim() === 'NaN' ? value : undefined;
  // Number() reads blank text as 0; blank is not a number.
  if (value === 0 && text.trim() === '') return undefined;
  return value;
}

/**
 * Converts CSV text to `type`; the empty string is a missing value (null). Returns undefined when
 * the text is not of the type (the caller builds the error, so the hot path allocates nothing).
 */
export function convertText(text: string, type: ColumnType): CellValue | undefined {
  if (text === '') return null;
  switch (type) {
    case 'string':
      return text;
    case 'number':
      return parseNumber(text);
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      return undefined;
    }
    case 'date':
      return parseDate(text);
  }
}

/**
 * Checks a JSON value against `type`; `null` is a missing value and dates come as strings or epoch
 * milliseconds. Returns undefined when the value is not of the type.
 */
export function convertJson(value: unknown, type: ColumnType): CellValue | undefined {
  if (value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'number':
      return typeof value === 'number' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'date':
      return typeof value === 'string' || typeof value === 'number' ? parseDate(value) : undefined;
  }
}

function parseDate(value: string | number): Date | undefined {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
