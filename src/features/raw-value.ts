/**
 * How a raw cell becomes what the exported graph receives: numbers as float32 with NaN for a
 * missing value, strings as UTF-8 with `''` for a missing value. Fitting, the TypeScript reference
 * and the ONNX feeds all go through these two functions, so they cannot disagree.
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
 * The cell as a float32 value; `null`, `undefined`, `''` and NaN are missing (NaN). Numeric strings
 * (as read from CSV) and booleans are accepted.
 *
 * @throws StratumError BAD_REQUEST for anything else, naming the column and the value.
 */
export function toRawNumber(cell: RawCell): number {
  const { value } = cell;
  if (typeof value === 'number') return Math.fround(value);
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Math.fround(Number(value));
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '' || trimmed === 'NaN') return Number.NaN;
    const number = Number(trimmed);
    if (!Number.isNaN(number)) return Math.fround(number);
  }
  throw new StratumError(
    'BAD_REQUEST',
    `column "${cell.column}": expected a number (or null for missing), got ${describe(value)}`,
    { details: { column: cell.column } },
  );
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
