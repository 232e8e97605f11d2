/**
 * Conversion of DuckDB result columns to plain JS values, decided once per column from its type so
 * that the per-value work is one call. Types with no plain scalar (lists, structs, blobs, intervals,
 * times of day) are refused when the query opens, with a hint to cast them in SQL.
 */
import {
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBResult,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import { StratumError } from '../errors/index.ts';
import type { ColumnType } from './column-schema.ts';
import { type TableValue, type ValueOrigin, safeNumber } from './table-row.ts';

/** How one result column becomes JS values. */
export interface DuckDbColumnPlan {
  /** The column name (deduplicated by DuckDB when a query repeats one). */
  readonly name: string;
  /** The kind of its values; `date` columns hold epoch milliseconds. */
  readonly kind: ColumnType;
  /** Converts a non-null value read from the column's vector. */
  readonly convert: (value: DuckDBValue) => TableValue;
}

const MS_PER_DAY = 86_400_000;

const identity = (value: DuckDBValue): TableValue => value as TableValue;

/** ±(2^63-1), DuckDB's infinite timestamps, rounded to a double (as are only the extreme finite ones). */
const INFINITE_UNITS = 2n ** 63n - 1n;
const NEAR_INFINITE = Number(INFINITE_UNITS);

/**
 * `units` (of 1/`perMs` ms) as epoch ms; DuckDB's infinite timestamps become ±Infinity. The exact
 * bigint test runs only for values that round to the extremes, keeping the common path to doubles.
 */
function epochMs(units: bigint, perMs: number): number {
  const number = Number(units);
  if (Math.abs(number) >= NEAR_INFINITE) {
    if (units === INFINITE_UNITS) return Number.POSITIVE_INFINITY;
    if (units === -INFINITE_UNITS) return Number.NEGATIVE_INFINITY;
  }
  return Math.floor(number / perMs);
}

/** Plans the conversion of every column of `result`; BAD_REQUEST naming a column of an unsupported type. */
export function planDuckDbColumns(result: DuckDBResult, label: string): DuckDbColumnPlan[] {
  const names = result.deduplicatedColumnNames();
  return names.map((name, index) => {
    const origin: ValueOrigin = { label, column: name };
    const typeId = result.columnTypeId(index);
    const plan = (kind: ColumnType, convert: (value: DuckDBValue) => TableValue): DuckDbColumnPlan => ({
      name,
      kind,
      convert,
    });
    switch (typeId) {
      case DuckDBTypeId.BOOLEAN:
        return plan('boolean', identity);
      case DuckDBTypeId.TINYINT:
      case DuckDBTypeId.SMALLINT:
      case DuckDBTypeId.INTEGER:
      case DuckDBTypeId.UTINYINT:
      case DuckDBTypeId.USMALLINT:
      case DuckDBTypeId.UINTEGER:
      case DuckDBTypeId.FLOAT:
      case DuckDBTypeId.DOUBLE:
      case DuckDBTypeId.SQLNULL:
        return plan('number', identity);
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.UBIGINT:
      case DuckDBTypeId.HUGEINT:
      case DuckDBTypeId.UHUGEINT:
        return plan('number', (value) => safeNumber(value as bigint, origin));
      case DuckDBTypeId.DECIMAL:
        return plan('number', (value) => decimalNumber(value as DuckDBDecimalValue, origin));
      case DuckDBTypeId.VARCHAR:
      case DuckDBTypeId.ENUM:
        return plan('string', identity);
      case DuckDBTypeId.UUID:
        return plan('string', (value) => String(value));
      case DuckDBTypeId.DATE:
        return plan('date', (value) => {
          const date = value as DuckDBDateValue;
          if (date.isFinite) return date.days * MS_PER_DAY;
          return date.days > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
        });
      case DuckDBTypeId.TIMESTAMP:
      case DuckDBTypeId.TIMESTAMP_TZ:
        return plan('date', (value) => epochMs((value as DuckDBTimestampValue).micros, 1000));
      case DuckDBTypeId.TIMESTAMP_S:
        return plan('date', (value) => epochMs((value as DuckDBTimestampSecondsValue).seconds, 1) * 1000);
      case DuckDBTypeId.TIMESTAMP_MS:
        return plan('date', (value) => epochMs((value as DuckDBTimestampMillisecondsValue).millis, 1));
      case DuckDBTypeId.TIMESTAMP_NS:
        return plan('date', (value) => epochMs((value as DuckDBTimestampNanosecondsValue).nanos, 1e6));
      default:
        throw new StratumError(
          'BAD_REQUEST',
          `${label}: column "${name}" has type ${result.columnType(index).toString()}, which has no plain JS value (cast it in the query, e.g. CAST("${name}" AS VARCHAR))`,
          { details: { source: label, column: name } },
        );
    }
  });
}

/** A DECIMAL as a number: fractions round as doubles do, but integer parts beyond 2^53 are refused. */
function decimalNumber(value: DuckDBDecimalValue, origin: ValueOrigin): number {
  const number = value.toDouble();
  if (Math.abs(number) > Number.MAX_SAFE_INTEGER) safeNumber(value.value / 10n ** BigInt(value.scale), origin);
  return number;
}
