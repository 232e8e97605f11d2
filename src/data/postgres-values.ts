/**
 * Conversion of PostgreSQL text-format values to plain JS, decided once per result column from its
 * type OID: integers and numerics become numbers (refused beyond ±2^53), timestamps and dates epoch
 * milliseconds. Timestamps without a zone are read as UTC, like every other source here, rather
 * than in the process's zone as `pg` does by default.
 */
import { StratumError } from '../errors/index.ts';
import { type TableValue, type ValueOrigin, safeNumber } from './table-row.ts';

/** Converts the text of a non-null value. */
export type PostgresConvert = (text: string) => TableValue;

/** Type OIDs (`pg_type.oid`), fixed for built-in types. */
const OID = {
  bool: 16,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
} as const;

const STRING_OIDS: ReadonlySet<number> = new Set([OID.char, OID.name, OID.text, OID.bpchar, OID.varchar, OID.uuid]);
const SMALL_NUMBER_OIDS: ReadonlySet<number> = new Set([OID.int2, OID.int4, OID.oid, OID.float4, OID.float8]);

/** The converter for a column of type `oid`; BAD_REQUEST naming the column for other types. */
export function postgresConverter(oid: number, origin: ValueOrigin): PostgresConvert {
  if (STRING_OIDS.has(oid)) return (text) => text;
  // Number() reads PostgreSQL's NaN, Infinity and -Infinity as the JS values of the same names.
  if (SMALL_NUMBER_OIDS.has(oid)) return Number;
  switch (oid) {
    case OID.bool:
      return (text) => text === 't';
    case OID.int8:
      return (text) => {
        const number = Number(text);
        return Number.isSafeInteger(number) ? number : safeNumber(BigInt(text), origin);
      };
    case OID.numeric:
      return (text) => {
        const number = Number(text);
        if (Number.isFinite(number) && Math.abs(number) > Number.MAX_SAFE_INTEGER) {
          safeNumber(BigInt(text.split('.')[0] as string), origin);
        }
        return number;
      };
    case OID.date:
    case OID.timestamp:
    case OID.timestamptz:
      return (text) => parseTimestamp(text, origin);
    default:
      throw new StratumError(
        'BAD_REQUEST',
        `${origin.label}: column "${origin.column}" has PostgreSQL type OID ${oid}, which has no plain JS value (cast it in the query, e.g. "${origin.column}"::text or ::float8)`,
        { details: { source: origin.label, column: origin.column, oid } },
      );
  }
}

/** ISO output (DateStyle ISO): `2024-01-02[ 03:04:05[.678901]][+05[:30[:15]]][ BC]`. */
const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?$/;

/** Epoch ms of a PostgreSQL date or timestamp in ISO style; `infinity` is ±Infinity. */
export function parseTimestamp(text: string, origin: ValueOrigin): number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  const match = TIMESTAMP.exec(text);
  if (match === null) {
    throw new StratumError(
      'BAD_REQUEST',
      `${origin.label}: column "${origin.column}": cannot read ${JSON.stringify(text)} as a date or timestamp`,
      { details: { source: origin.label, column: origin.column } },
    );
  }
  const part = (index: number): number => Number(match[index] ?? 0);
  const bc = match[12] !== undefined;
  // 1 BC is year 0 in the proleptic Gregorian calendar that Date uses.
  const year = bc ? 1 - part(1) : part(1);
  const millis = Number((match[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const date = new Date(0);
  date.setUTCFullYear(year, part(2) - 1, part(3));
  date.setUTCHours(part(4), part(5), part(6), millis);
  const sign = match[8] === '-' ? -1 : 1;
  const offsetSeconds = sign * (part(9) * 3600 + part(10) * 60 + part(11));
  return date.getTime() - offsetSeconds * 1000;
}
