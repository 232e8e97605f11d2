/**
 * The feature pipeline spec: which raw column each transform reads, how it is fitted, what it does
 * with a missing value, and what the feature matrix is called. The schema is the type;
 * {@link parseFeatureSpec} turns bad input into a BAD_REQUEST that names the spec path.
 *
 * A numeric transform fills a missing value (an empty cell, null, NaN) only when its spec says how
 * (`missing: mean | median | constant`); by default (`missing: error`) a missing value in the
 * training data is an error naming the row and the spec key to set, and a served row missing it
 * gets no prediction (NaN outputs), never a value made up in its place.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import { DATE_PARTS } from './date-parts.ts';

const column = z.string().min(1);
/** Optional prefix of the transform's feature names. @default the column name */
const name = z.string().min(1).optional();

/** How a numeric transform treats a missing value; see {@link MISSING_POLICIES}. */
export const MissingPolicySchema = z.enum(['error', 'mean', 'median', 'constant']);

/** What each `missing` policy does, for docs and messages. */
export const MISSING_POLICIES: Readonly<Record<z.infer<typeof MissingPolicySchema>, string>> = Object.freeze({
  error: 'a missing value in the training data is an error naming its row; a served row missing it gets NaN outputs',
  mean: 'filled with the mean of the training values',
  median: 'filled with the median of the training values (KLL sketch, exact up to 200 values)',
  constant: 'filled with `fillValue`',
});

/** The `missing` and `fillValue` keys every numeric transform but `impute` shares. */
const missingKeys = {
  /**
   * What a missing value (an empty cell, null, NaN) becomes: an error (the default: nothing is
   * filled in silently), or the fitted mean or median, or `fillValue`.
   */
  missing: MissingPolicySchema.default('error'),
  /** The value a missing one becomes with `missing: constant`. */
  fillValue: z.number().finite().optional(),
};

/** `missing: constant` needs a `fillValue`, and a `fillValue` is only read with it. */
function checkFillValue(spec: { missing: string; fillValue?: number | undefined }, context: z.RefinementCtx): void {
  if (spec.missing === 'constant' && spec.fillValue === undefined) {
    context.addIssue({ code: 'custom', message: 'missing: constant needs a numeric fillValue', path: ['fillValue'] });
  }
  if (spec.missing !== 'constant' && spec.fillValue !== undefined) {
    context.addIssue({
      code: 'custom',
      message: `fillValue is only used with missing: constant (missing is ${spec.missing})`,
      path: ['fillValue'],
    });
  }
}

/** `(x - mean) / std`. */
export const StandardizeSpecSchema = z
  .object({ column, name, transform: z.literal('standardize'), ...missingKeys })
  .strict()
  .superRefine(checkFillValue);

/** `(x - min) / (max - min)`. */
export const MinMaxSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('minmax'),
    /** Clip the result to [0, 1], so values outside the training range stay in range. */
    clip: z.boolean().default(false),
    ...missingKeys,
  })
  .strict()
  .superRefine(checkFillValue);

/** The raw value with missing values filled in, optionally plus a 0/1 "was missing" feature. */
export const ImputeSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('impute'),
    /**
     * How the fill value is chosen. `median` comes from a KLL sketch (src/data/profile): exact up to
     * 200 values, else a value whose rank is within about 1 % of the middle (the lower median on ties).
     */
    strategy: z.enum(['mean', 'median', 'most_frequent', 'constant']).default('mean'),
    /** The fill value when `strategy` is `'constant'`. */
    value: z.number().finite().optional(),
    /** Add a feature that is 1 where the value was missing. */
    indicator: z.boolean().default(false),
  })
  .strict()
  .refine((spec) => spec.strategy !== 'constant' || spec.value !== undefined, {
    message: "strategy 'constant' needs a numeric value",
    path: ['value'],
  });

/** One feature per kept category plus one out-of-vocabulary feature (unseen, missing or rare values). */
export const OneHotSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('onehot'),
    /** Keep at most this many categories, the most frequent first. */
    topK: z.number().int().min(1).max(100_000).default(32),
    /** Drop categories seen fewer times than this during fitting. */
    minCount: z.number().int().min(1).default(1),
  })
  .strict();

/** The bucket a value falls in, between quantile (or given) boundaries. */
export const BucketizeSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('bucketize'),
    /** Number of equal-frequency buckets to fit; ignored when `boundaries` is given. */
    buckets: z.number().int().min(2).max(1000).default(10),
    /** Fixed ascending boundaries; bucket i holds values with `boundaries[i-1] <= x < boundaries[i]`. */
    boundaries: z.array(z.number().finite()).min(1).optional(),
    /** `onehot`: one feature per bucket; `ordinal`: a single feature holding the bucket index. */
    encoding: z.enum(['onehot', 'ordinal']).default('onehot'),
    ...missingKeys,
  })
  .strict()
  .superRefine(checkFillValue);

/**
 * Hashed n-gram counts of a text column, optionally lowercased, weighted by inverse document
 * frequency and L2-normalised; one feature per hash bucket.
 */
export const TextSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('text'),
    /** Lowercase before tokenizing (per code point, as onnxruntime's StringNormalizer in C.UTF-8). */
    lowercase: z.boolean().default(true),
    /** Smallest and largest n-gram length, e.g. `[1, 2]` for words and word pairs. */
    ngramRange: z
      .tuple([z.number().int().min(1).max(4), z.number().int().min(1).max(4)])
      .default([1, 1])
      .refine(([min, max]) => min <= max, 'the first length must not exceed the second'),
    /** Number of hash buckets (features). */
    buckets: z.number().int().min(2).max(65_536).default(1024),
    /** `tf`: raw counts; `tfidf`: counts times smoothed IDF, `ln((1 + docs) / (1 + df)) + 1`. */
    weighting: z.enum(['tf', 'tfidf']).default('tfidf'),
    /** `l2`: scale each row to unit length (an all-zero row stays zero). */
    norm: z.enum(['l2', 'none']).default('l2'),
  })
  .strict();

/**
 * A string column hashed into `buckets` one-hot features: feature `murmur3(value) mod buckets` is 1
 * (MurmurHash3 x86 32-bit, seed 0, over UTF-8, as the text transform hashes tokens). Needs no
 * vocabulary, so unseen values still land in a bucket; a missing value (`''`) gives an all-zero row.
 */
export const HashSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('hash'),
    /** Number of buckets (features). */
    buckets: z.number().int().min(2).max(65_536).default(32),
  })
  .strict();

/**
 * Calendar parts of an epoch-milliseconds column in UTC (the graph reads it as DOUBLE, since float32
 * cannot hold milliseconds since 1970). `missing: mean | median` fill a missing timestamp with the
 * fitted one (a whole millisecond), `constant` with `fillValue` (epoch milliseconds).
 */
export const DatePartsSpecSchema = z
  .object({
    column,
    name,
    transform: z.literal('dateparts'),
    /**
     * Parts in feature order: year, month (1–12), day (1–31), dayofweek (0 = Monday … 6 = Sunday),
     * hour, minute, dayofyear (1–366).
     */
    parts: z
      .array(z.enum(DATE_PARTS))
      .min(1)
      .default(['year', 'month', 'day', 'dayofweek', 'hour'])
      .refine((parts) => new Set(parts).size === parts.length, 'must not repeat a part'),
    /**
     * `ordinal`: one number per part. `cyclical`: month, dayofweek, hour and minute become a
     * `sin`/`cos` pair of `2π (value - start) / period` (so December sits next to January); year,
     * day and dayofyear stay ordinal.
     */
    encoding: z.enum(['ordinal', 'cyclical']).default('ordinal'),
    ...missingKeys,
  })
  .strict()
  .superRefine(checkFillValue);

/** One transform of a feature pipeline. */
export const TransformSpecSchema = z.discriminatedUnion('transform', [
  StandardizeSpecSchema,
  MinMaxSpecSchema,
  ImputeSpecSchema,
  OneHotSpecSchema,
  BucketizeSpecSchema,
  TextSpecSchema,
  HashSpecSchema,
  DatePartsSpecSchema,
]);

/** A feature pipeline: transforms in feature order. */
export const FeatureSpecSchema = z
  .object({
    /** Transforms; their features are concatenated in this order. */
    transforms: z.array(TransformSpecSchema).min(1),
    /** Name of the FLOAT [N, F] feature tensor in the exported graph. */
    output: z.string().min(1).default('features'),
  })
  .strict();

/** A parsed feature spec (defaults filled in). */
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;
/** A feature spec as written by a user (defaults optional). */
export type FeatureSpecInput = z.input<typeof FeatureSpecSchema>;
/** One parsed transform. */
export type TransformSpec = z.infer<typeof TransformSpecSchema>;

/**
 * Validates a feature spec.
 *
 * @throws StratumError BAD_REQUEST listing every issue with its path, e.g. `transforms[1].transform: …`.
 * @example
 * ```ts
 * const spec = parseFeatureSpec({ transforms: [{ column: 'age', transform: 'standardize' }] })
 * ```
 */
export function parseFeatureSpec(input: unknown): FeatureSpec {
  const parsed = FeatureSpecSchema.safeParse(input, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid feature spec: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const spec = parsed.data;
  const kinds = new Map<string, { kind: 'number' | 'string'; index: number }>();
  spec.transforms.forEach((transform, index) => {
    const kind = isStringTransform(transform) ? 'string' : 'number';
    const seen = kinds.get(transform.column);
    if (seen !== undefined && seen.kind !== kind) {
      throw new StratumError(
        'BAD_REQUEST',
        `invalid feature spec: transforms[${index}].column: column "${transform.column}" is read as a ${kind} here but as a ${seen.kind} by transforms[${seen.index}]; a column has one type`,
        { details: { path: ['transforms', index, 'column'], column: transform.column } },
      );
    }
    if (seen === undefined) kinds.set(transform.column, { kind, index });
    if (transform.transform === 'bucketize' && transform.boundaries !== undefined) {
      const b = transform.boundaries;
      if (b.some((value, i) => i > 0 && value <= (b[i - 1] ?? -Infinity))) {
        throw new StratumError(
          'BAD_REQUEST',
          `invalid feature spec: transforms[${index}].boundaries: must be strictly ascending, got [${b.join(', ')}]`,
          { details: { path: ['transforms', index, 'boundaries'] } },
        );
      }
    }
  });
  return spec;
}

/** True for transforms that read their column as a string (STRING graph input). */
export function isStringTransform(transform: { readonly transform: string }): boolean {
  return transform.transform === 'onehot' || transform.transform === 'text' || transform.transform === 'hash';
}

/**
 * The columns whose missing values no transform may fill (a transform reading them has
 * `missing: error`), each with the index of the first such transform, for messages.
 */
export function columnsRequiringValues(spec: Pick<FeatureSpec, 'transforms'>): Map<string, number> {
  const required = new Map<string, number>();
  spec.transforms.forEach((transform, index) => {
    if ('missing' in transform && transform.missing === 'error' && !required.has(transform.column)) {
      required.set(transform.column, index);
    }
  });
  return required;
}
