/**
 * The dataset profile format: per-column summaries for people (kind, missing, moments, quantiles,
 * histogram, distinct count, top categories) next to the mergeable sketch state they came from, so
 * profiles of shards combine into the profile of the whole. Plain JSON, versioned by `format`,
 * validated again when read back ({@link parseDatasetProfile}).
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { formatIssues } from '../../errors/format-issues.ts';

/** Format tag written into every profile. */
export const DATASET_PROFILE_FORMAT = 'stratum.profile/v1';

/** Quantile levels every numeric summary reports, under the keys `p1` … `p99`. */
export const PROFILE_QUANTILES = Object.freeze({
  p1: 0.01,
  p5: 0.05,
  p25: 0.25,
  p50: 0.5,
  p75: 0.75,
  p95: 0.95,
  p99: 0.99,
} as const);

/** How a profile is computed; profiles merge only when these agree. */
export const ProfileSettingsSchema = z
  .object({
    /** KLL accuracy: rank error of quantiles and histogram edges ≈ 1/k (see kll-sketch.ts). @default 200 */
    quantileK: z.number().int().min(8).max(65_536).default(200),
    /** Top categories reported per column. @default 10 */
    topK: z.number().int().min(1).max(1000).default(10),
    /** Misra–Gries counters per column; counts are exact up to 2 × this many distinct values. @default 64 */
    topCapacity: z.number().int().min(1).max(100_000).default(64),
    /** Distinct counts are exact up to this many values, then HyperLogLog (~1.6 % error). @default 256 */
    distinctCap: z.number().int().min(0).max(100_000).default(256),
    /** Equal-width histogram bins over [min, max]. @default 20 */
    histogramBins: z.number().int().min(1).max(1000).default(20),
  })
  .strict();

/** Profile settings with defaults filled in. */
export type ProfileSettings = z.infer<typeof ProfileSettingsSchema>;
/** Profile options as a caller writes them (every field optional). */
export type ProfileOptions = z.input<typeof ProfileSettingsSchema>;

const count = z.number().int().min(0);
const finite = z.number().finite();

const KllStateSchema = z
  .object({
    k: z.number().int().min(8),
    n: count,
    min: finite.nullable(),
    max: finite.nullable(),
    levels: z.array(z.array(finite)),
    seed: z.number().int().min(0),
  })
  .strict();

const DistinctStateSchema = z.union([
  z.object({ exact: z.array(z.number().int().min(0)) }).strict(),
  z.object({ registers: z.string() }).strict(),
]);

const FrequentStateSchema = z
  .object({ counters: z.array(z.tuple([z.string(), z.number().int().min(1)])), undercount: count })
  .strict();

/** Summary of a column's numbers (JS numbers, bigints and Dates as epoch milliseconds). */
export const NumericSummarySchema = z
  .object({
    /** Finite values. */
    count,
    /** ±Infinity values: counted here, left out of every statistic. */
    nonFinite: count,
    min: finite.nullable(),
    max: finite.nullable(),
    mean: finite.nullable(),
    /** Population standard deviation (divides by n), as `standardize` fits it. */
    std: finite.nullable(),
    /** Approximate quantiles from the KLL sketch (exact while count ≤ quantileK); null when count is 0. */
    quantiles: z.record(z.enum(['p1', 'p5', 'p25', 'p50', 'p75', 'p95', 'p99']), finite).nullable(),
    /**
     * Equal-width bins over [min, max] (the last bin includes max), counted from the sketch, so
     * approximate: a bin's count is off by at most about 2 × rank error × count. Null when count is 0.
     */
    histogram: z
      .object({ edges: z.array(finite), counts: z.array(count) })
      .strict()
      .nullable(),
    /** Mergeable state: Welford's sum of squared deviations and the quantile sketch. */
    state: z.object({ m2: z.number().min(0), sketch: KllStateSchema }).strict(),
  })
  .strict();

/** Summary of a column's strings. */
export const CategoricalSummarySchema = z
  .object({
    /** Non-empty strings. */
    count,
    /** Distinct strings: exact while `distinctExact`, else a HyperLogLog estimate. */
    distinct: count,
    distinctExact: z.boolean(),
    /** The most frequent strings, most frequent first (ties by value). */
    top: z.array(z.object({ value: z.string(), count }).strict()),
    /** True when every top count is exact; otherwise each may be short by up to `state.frequent.undercount`. */
    topExact: z.boolean(),
    /** Mergeable state: the distinct counter and the Misra–Gries counters. */
    state: z.object({ distinct: DistinctStateSchema, frequent: FrequentStateSchema }).strict(),
  })
  .strict();

/** One column's profile. */
export const ColumnProfileSchema = z
  .object({
    name: z.string(),
    /**
     * `numeric`, `categorical` (strings), `boolean`, `mixed` (more than one of these, or objects
     * and arrays), or `empty` (every value missing).
     */
    kind: z.enum(['numeric', 'categorical', 'boolean', 'mixed', 'empty']),
    /** Rows profiled (a row without the column counts as missing). */
    count,
    /** Missing cells: absent, `null`, `undefined`, `''`, NaN or an invalid Date. */
    missing: count,
    numeric: NumericSummarySchema.nullable(),
    categorical: CategoricalSummarySchema.nullable(),
    boolean: z.object({ count, trueCount: count }).strict().nullable(),
    /** Objects, arrays and other values that fit no kind. */
    otherCount: count,
  })
  .strict();

/** A dataset profile. */
export const DatasetProfileSchema = z
  .object({
    format: z.literal(DATASET_PROFILE_FORMAT),
    /** Rows profiled. */
    rows: count,
    settings: ProfileSettingsSchema,
    /** Columns in first-seen order. */
    columns: z.array(ColumnProfileSchema),
  })
  .strict();

/** Summary of a column's numbers. */
export type NumericSummary = z.infer<typeof NumericSummarySchema>;
/** Summary of a column's strings. */
export type CategoricalSummary = z.infer<typeof CategoricalSummarySchema>;
/** One column's profile. */
export type ColumnProfile = z.infer<typeof ColumnProfileSchema>;
/** A JSON-serializable dataset profile. */
export type DatasetProfile = z.infer<typeof DatasetProfileSchema>;

/**
 * Validates profile settings.
 *
 * @throws StratumError BAD_REQUEST naming each invalid option, e.g. `quantileK: …`.
 */
export function parseProfileSettings(input: unknown): ProfileSettings {
  const parsed = ProfileSettingsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid profile options: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/**
 * Reads a profile back (e.g. from `JSON.parse`).
 *
 * @throws StratumError BAD_REQUEST naming each invalid path.
 */
export function parseDatasetProfile(input: unknown): DatasetProfile {
  const parsed = DatasetProfileSchema.safeParse(input);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid dataset profile: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}
