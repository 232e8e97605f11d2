/**
 * How a raw cell becomes what the exported graph receives: numbers as float32 (or float64 for
 * timestamp columns) with NaN for a missing value, strings as UTF-8 with `''` for a missing value.
 * Fitting, the TypeScript reference and the ONNX feeds all go through these functions, so they
 * cannot disagree.
 */
import { StratumError } from '../errors/index.ts';

/** A cell and the column it came from (for the error message). */
export interface RawCell {
  /** Column name. */
  readonly column: string;
  /** The cell as found in the row. */
  readonly value: unknown;
}

/**
 * The cell as a float32 value; `null`, `undefined`, `''`, NaN and an invalid Date are missing (NaN).
 * Numeric strings (as read from CSV), booleans and Dates (epoch milliseconds) are accepted.
 * Equals `Math.fround(toRawDouble(cell))`, which is what the graph's DOUBLE → FLOAT Cast gives.
 *
 * @throws StratumError BAD_REQUEST for anything else, naming the column and the value.
 */
export function toRawNumber(cell: RawCell): number {
  return Math.fround(toRawDouble(cell));
}

/**
 * The cell as a float64 value, with the rules of {@link toRawNumber}; the feed of a DOUBLE input
 * (a timestamp column, whose milliseconds float32 would round to minutes).
 *
 * @throws StratumError BAD_REQUEST for anything else, naming the column and the value.
 */
export function toRawDouble(cell: RawCell): number {
  const number = rawDoubleOf(cell.value);
  if (number !== undefined) return number;
  const { value } = cell;
  throw new StratumError(
    'BAD_REQUEST',
    `column "${cell.column}": expected a number (or null for missing), got ${describe(value)}`,
    { details: { column: cell.column } },
  );
}

/**
 * `value` as {@link toRawDouble} reads it (NaN for a missing value), or undefined when it is not a
 * number, for callers that word the error themselves.
 */
export function rawDoubleOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '' || trimmed === 'NaN') return Number.NaN;
    const number = Number(trimmed);
    if (!Number.isNaN(number)) return number;
  }
  return undefined;
}

/**
 * The cell as a category string; `null` and `undefined` are missing (`''`). Numbers, bigints and
 * booleans are written with `String()`.
 *
 * @throws StratumError BAD_REQUEST for objects and other values, naming the column.
 */
export function toRawString(cell: RawCell): string {
  const { value } = cell;
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new StratumError(
    'BAD_REQUEST',
    `column "${cell.column}": expected a string (or null for missing), got ${describe(value)}`,
    { details: { column: cell.column } },
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value;
}
