/**
 * Fitted feature transforms: plain JSON (every number float32-exact, so the TypeScript reference and
 * the exported ONNX graph compute with identical constants; the one exception is the `dateparts`
 * fill, a whole number of milliseconds the graph holds as DOUBLE), validated again when read back.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { formatIssues } from '../errors/format-issues.ts';
import { CYCLICAL_PERIODS, DATE_PARTS } from './date-parts.ts';
import { isStringTransform } from './feature-spec.ts';

/**
 * The value a missing one becomes, or null when a missing value is an error (`missing: error`):
 * the transform has nothing to fill in, and a row missing the value gets NaN features.
 */
const fill = z
  .number()
  .refine((n) => !Number.isNaN(n), 'must not be NaN')
  .nullable();

/** Format tag written into every fitted pipeline. */
export const FITTED_FEATURES_FORMAT = 'stratum.features/v1';

const column = z.string().min(1);
const name = z.string().min(1);
const value = z.number().refine((n) => !Number.isNaN(n), 'must not be NaN');

/** A fitted transform; `name` is the resolved feature-name prefix. */
export const FittedTransformSchema = z.discriminatedUnion('transform', [
  z.object({ transform: z.literal('standardize'), column, name, fill, mean: value, std: value }).strict(),
  z
    .object({ transform: z.literal('minmax'), column, name, fill, min: value, scale: value, clip: z.boolean() })
    .strict(),
  z.object({ transform: z.literal('impute'), column, name, fill: value, indicator: z.boolean() }).strict(),
  z.object({ transform: z.literal('onehot'), column, name, vocabulary: z.array(z.string()).min(1) }).strict(),
  z
    .object({
      transform: z.literal('bucketize'),
      column,
      name,
      fill,
      boundaries: z.array(value).min(1),
      encoding: z.enum(['onehot', 'ordinal']),
    })
    .strict(),
  z
    .object({
      transform: z.literal('text'),
      column,
      name,
      lowercase: z.boolean(),
      ngramMin: z.number().int().min(1),
      ngramMax: z.number().int().min(1),
      buckets: z.number().int().min(2),
      /** Per-bucket IDF weights, or null for raw counts. */
      idf: z.array(value).nullable(),
      norm: z.enum(['l2', 'none']),
    })
    .strict(),
  z.object({ transform: z.literal('hash'), column, name, buckets: z.number().int().min(2).max(65_536) }).strict(),
  z
    .object({
      transform: z.literal('dateparts'),
      column,
      name,
      /** Timestamp (ms) used for a missing value, a whole number; null when a missing value is an error. */
      fill: z.number().int().nullable(),
      parts: z.array(z.enum(DATE_PARTS)).min(1),
      encoding: z.enum(['ordinal', 'cyclical']),
    })
    .strict(),
]);

/**
 * A raw column the pipeline reads, and the tensor type it arrives as: STRING for categorical and
 * text columns, DOUBLE for columns a `dateparts` transform reads (epoch milliseconds need more than
 * float32's 24 bits), FLOAT for the other numeric columns.
 */
export const RawInputSchema = z.object({ column, type: z.enum(['FLOAT', 'DOUBLE', 'STRING']) }).strict();

/** A fitted feature pipeline. */
export const FittedFeaturesSchema = z
  .object({
    format: z.literal(FITTED_FEATURES_FORMAT),
    /** Name of the FLOAT [N, F] feature tensor. */
    output: z.string().min(1),
    /** One entry per distinct raw column, in first-use order. */
    inputs: z.array(RawInputSchema).min(1),
    transforms: z.array(FittedTransformSchema).min(1),
    /** One name per feature column, F in all. */
    featureNames: z.array(z.string()),
  })
  .strict();

/** A fitted transform. */
export type FittedTransform = z.infer<typeof FittedTransformSchema>;
/** A raw column read by the pipeline. */
export type RawInput = z.infer<typeof RawInputSchema>;
/** A fitted, JSON-serializable feature pipeline. */
export type FittedFeatures = z.infer<typeof FittedFeaturesSchema>;

/** Feature names a fitted transform produces, in order (`age_std`, `city=paris`, `city=<oov>`, …). */
export function featureNamesOf(transform: FittedTransform): string[] {
  switch (transform.transform) {
    case 'standardize':
      return [`${transform.name}_std`];
    case 'minmax':
      return [`${transform.name}_minmax`];
    case 'impute':
      return transform.indicator ? [transform.name, `${transform.name}_missing`] : [transform.name];
    case 'onehot':
      return [...transform.vocabulary.map((category) => `${transform.name}=${category}`), `${transform.name}=<oov>`];
    case 'bucketize':
      return transform.encoding === 'ordinal'
        ? [`${transform.name}_bucket`]
        : Array.from({ length: transform.boundaries.length + 1 }, (_, i) => `${transform.name}_bucket${i}`);
    case 'text':
      return Array.from({ length: transform.buckets }, (_, i) => `${transform.name}#${i}`);
    case 'hash':
      return Array.from({ length: transform.buckets }, (_, i) => `${transform.name}_hash${i}`);
    case 'dateparts':
      return transform.parts.flatMap((part) =>
        transform.encoding === 'cyclical' && CYCLICAL_PERIODS[part] !== undefined
          ? [`${transform.name}_${part}_sin`, `${transform.name}_${part}_cos`]
          : [`${transform.name}_${part}`],
      );
  }
}

/**
 * Reads a fitted pipeline back (e.g. from `JSON.parse`).
 *
 * @throws StratumError BAD_REQUEST naming each invalid path, or when `featureNames` disagrees with the transforms.
 */
export function parseFittedFeatures(input: unknown): FittedFeatures {
  const parsed = FittedFeaturesSchema.safeParse(input);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid fitted features: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const fitted = parsed.data;
  const expected = fitted.transforms.flatMap(featureNamesOf);
  if (expected.length !== fitted.featureNames.length || expected.some((n, i) => n !== fitted.featureNames[i])) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid fitted features: featureNames has ${fitted.featureNames.length} entries that do not match the ${expected.length} features the transforms produce`,
    );
  }
  for (const [index, transform] of fitted.transforms.entries()) {
    const input = fitted.inputs.find((candidate) => candidate.column === transform.column);
    const allowed = inputTypesOf(transform);
    if (transform.transform === 'text' && transform.idf !== null && transform.idf.length !== transform.buckets) {
      throw new StratumError(
        'BAD_REQUEST',
        `invalid fitted features: transforms[${index}].idf has ${transform.idf.length} weights for ${transform.buckets} buckets`,
      );
    }
    if (input === undefined || !allowed.includes(input.type)) {
      throw new StratumError(
        'BAD_REQUEST',
        `invalid fitted features: transforms[${index}] reads column "${transform.column}" as ${allowed.join(' or ')}, but inputs declare ${input?.type ?? 'no such column'}`,
      );
    }
  }
  return fitted;
}

/** Input types a transform can read its column as (numeric transforms cast a DOUBLE column to FLOAT). */
function inputTypesOf(transform: FittedTransform): readonly RawInput['type'][] {
  if (isStringTransform(transform)) return ['STRING'];
  return transform.transform === 'dateparts' ? ['DOUBLE'] : ['FLOAT', 'DOUBLE'];
}

/**
 * The raw columns whose missing values the pipeline does not fill (a transform's `fill` is null,
 * from `missing: error`): a row missing one of them gets NaN for every feature.
 */
export function unfilledColumns(fitted: Pick<FittedFeatures, 'transforms'>): string[] {
  const columns = new Set<string>();
  for (const transform of fitted.transforms)
    if ('fill' in transform && transform.fill === null) columns.add(transform.column);
  return [...columns];
}
