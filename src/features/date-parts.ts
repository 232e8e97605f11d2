/**
 * Calendar parts of an epoch-milliseconds timestamp in UTC, computed with floor divisions only
 * (Howard Hinnant's `civil_from_days`), so the exported graph can repeat every step with
 * Div/Floor/Mul/Sub on DOUBLE tensors and get the same integers. Every intermediate is an integer
 * below 2^53, and floor(a / b) of two integers is exact when the rounding error of the double
 * quotient (half an ulp: ≤ 2^-32 for quotients below 2^21) is smaller than the distance from a
 * non-integer quotient to the next integer (≥ 1 / b ≥ 1 / 86,400,000); that holds for timestamps
 * within ±2^47 ms (years 2429 BC … AD 6429). Both sides run the same IEEE operations anyway.
 */

/** Parts a `dateparts` transform can emit. */
export const DATE_PARTS = ['year', 'month', 'day', 'dayofweek', 'hour', 'minute', 'dayofyear'] as const;

/** One calendar part. */
export type DatePart = (typeof DATE_PARTS)[number];

/**
 * Periods of the parts that `encoding: 'cyclical'` turns into sin/cos pairs, and the value that
 * maps to angle 0; the other parts (year, day, dayofyear) stay ordinal, since their period varies.
 */
export const CYCLICAL_PERIODS: Readonly<
  Partial<Record<DatePart, { readonly period: number; readonly start: number }>>
> = Object.freeze({
  month: { period: 12, start: 1 },
  dayofweek: { period: 7, start: 0 },
  hour: { period: 24, start: 0 },
  minute: { period: 60, start: 0 },
});

/**
 * `sin` and `cos` of `2π (value - start) / period` for every value of a cyclical part, as float32,
 * indexed by `value - start`. A lookup instead of Sin/Cos ops: onnxruntime's vectorized and scalar
 * Sin disagree in the last bit (and on the sign of sin π), a table is the same at every batch size.
 * Values within 1e-12 of zero are exactly 0, so e.g. the sin of July (month 7) is 0.
 */
export function cyclicalTable(part: DatePart): CyclicalTable {
  return CYCLICAL_TABLES.get(part) ?? EMPTY_TABLE;
}

/** The float32 sin/cos of each value of a cyclical part. */
export interface CyclicalTable {
  readonly sin: readonly number[];
  readonly cos: readonly number[];
}

const EMPTY_TABLE: CyclicalTable = Object.freeze({ sin: [], cos: [] });

const CYCLICAL_TABLES: ReadonlyMap<DatePart, CyclicalTable> = new Map(
  Object.entries(CYCLICAL_PERIODS).map(([part, cycle]) => {
    const round = (x: number): number => (Math.abs(x) < 1e-12 ? 0 : Math.fround(x));
    const angles = Array.from({ length: cycle.period }, (_, i) => (2 * Math.PI * i) / cycle.period);
    const table = {
      sin: Object.freeze(angles.map((a) => round(Math.sin(a)))),
      cos: Object.freeze(angles.map((a) => round(Math.cos(a)))),
    };
    return [part as DatePart, Object.freeze(table)];
  }),
);

/** Milliseconds per day, hour and minute. */
export const MS_PER_DAY = 86_400_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_MINUTE = 60_000;

/** Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
export const CIVIL_EPOCH_SHIFT = 719_468;

/** Days in a 400-year era. */
export const DAYS_PER_ERA = 146_097;

/** Calendar parts of one timestamp. */
export type DateParts = Readonly<Record<DatePart, number>>;

/**
 * The UTC parts of `ms` (floored to a whole millisecond): month 1–12, day 1–31, dayofweek
 * 0 = Monday … 6 = Sunday (ISO 8601 order), hour 0–23, minute 0–59, dayofyear 1–366.
 *
 * @example
 * ```ts
 * datePartsOf(Date.UTC(2024, 1, 29, 13, 5)) // { year: 2024, month: 2, day: 29, dayofweek: 3, hour: 13, minute: 5, dayofyear: 60 }
 * ```
 */
export function datePartsOf(ms: number): DateParts {
  const floor = Math.floor;
  const t = floor(ms);
  const days = floor(t / MS_PER_DAY);
  const msOfDay = t - days * MS_PER_DAY;
  const hour = floor(msOfDay / MS_PER_HOUR);
  const minute = floor((msOfDay - hour * MS_PER_HOUR) / MS_PER_MINUTE);
  // 1970-01-01 was a Thursday, 3 in Monday-first numbering
  const dayofweek = days + 3 - 7 * floor((days + 3) / 7);
  const z = days + CIVIL_EPOCH_SHIFT;
  const era = floor(z / DAYS_PER_ERA);
  const doe = z - era * DAYS_PER_ERA;
  const yoe = floor((doe - floor(doe / 1460) + floor(doe / 36_524) - floor(doe / 146_096)) / 365);
  // day of the March-based year: 0 = March 1, 306 = January 1
  const doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
  const mp = floor((5 * doy + 2) / 153);
  const day = doy - floor((153 * mp + 2) / 5) + 1;
  const janOrFeb = mp >= 10;
  const month = janOrFeb ? mp - 9 : mp + 3;
  const year = yoe + era * 400 + (janOrFeb ? 1 : 0);
  const dayofyear = janOrFeb ? doy - 305 : doy + 60 + (isLeap(year) ? 1 : 0);
  return { year, month, day, dayofweek, hour, minute, dayofyear };
}

/** Gregorian leap year, with the same mod-by-floor arithmetic as the graph. */
function isLeap(year: number): boolean {
  const mod = (k: number): number => year - k * Math.floor(year / k);
  return mod(4) === 0 && (mod(100) !== 0 || mod(400) === 0);
}
