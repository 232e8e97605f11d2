/**
 * Rows and columns read from tabular engines (DuckDB, Arrow, PostgreSQL). Values are plain JS
 * scalars: integers and decimals become numbers (refused when not exactly representable as a safe
 * integer), and dates and timestamps become epoch milliseconds (UTC) as numbers, the form the
 * date-part feature transforms consume, rather than `Date` objects (cheaper by the million).
 */
import { StratumError } from '../errors/index.ts';
import type { ColumnType } from './column-schema.ts';

/** A cell of a {@link TableRow}: dates and timestamps are epoch milliseconds. */
export type TableValue = number | string | boolean | null;

/** A row read from a table source (Parquet, SQL, Arrow, PostgreSQL). */
export type TableRow = Record<string, TableValue>;

/**
 * One column in memory: numbers and dates (epoch ms) as a `Float64Array` with NaN for null;
 * strings and booleans as arrays with null.
 */
export type ColumnArray = Float64Array | (string | null)[] | (boolean | null)[];

/** Whole columns of a table, for trainers that read columns rather than rows. */
export interface TableColumns {
  /** Rows in every column. */
  readonly rowCount: number;
  /** Each column's kind, in the source's order; `date` columns hold epoch milliseconds. */
  readonly types: Readonly<Record<string, ColumnType>>;
  /** Column name → values. */
  readonly columns: Readonly<Record<string, ColumnArray>>;
}

/** Where a value came from, for messages: the source's label and the column. */
export interface ValueOrigin {
  /** The file or query, as messages name it. */
  readonly label: string;
  /** The column name. */
  readonly column: string;
}

/**
 * A 64-bit (or wider) integer as a number; refuses values beyond ±2^53-1, which a number would
 * silently round.
 */
export function safeNumber(value: bigint, origin: ValueOrigin): number {
  // Number() first: a bigint beyond the range rounds to an unsafe number, and comparing numbers is
  // several times cheaper than comparing bigints on this hot path.
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new StratumError(
      'BAD_REQUEST',
      `${origin.label}: column "${origin.column}": integer ${value} is beyond ±${Number.MAX_SAFE_INTEGER} and cannot be a number exactly (cast it to a floating-point or text type in the query)`,
      { details: { source: origin.label, column: origin.column } },
    );
  }
  return number;
}

/** The numeric column `name` of `table`; BAD_REQUEST when it is missing or holds strings/booleans. */
export function numberColumn(table: TableColumns, name: string): Float64Array {
  const column = table.columns[name];
  if (column instanceof Float64Array) return column;
  throw missingOrWrong(table, name, 'a number or date');
}

/** The string column `name` of `table`; BAD_REQUEST when it is missing or of another kind. */
export function stringColumn(table: TableColumns, name: string): readonly (string | null)[] {
  const column = table.columns[name];
  if (column !== undefined && table.types[name] === 'string') return column as (string | null)[];
  throw missingOrWrong(table, name, 'a string');
}

function missingOrWrong(table: TableColumns, name: string, expected: string): StratumError {
  const type = table.types[name];
  const message =
    type === undefined
      ? `no column "${name}" (columns: ${Object.keys(table.types).join(', ')})`
      : `column "${name}" holds ${type} values, expected ${expected} column`;
  return new StratumError('BAD_REQUEST', message, { details: { column: name } });
}
