/**
 * Fits a feature spec on training rows in one streaming pass: means and standard deviations
 * (Welford), min/max, most frequent values, category counts, the values bucketize needs for
 * quantiles, and KLL sketches for medians (impute, and `missing: median`). A missing value in a
 * column some transform reads with `missing: error` stops the fit, naming the row. Fitted
 * constants are rounded to float32, the precision the exported graph computes in (timestamps,
 * which the graph reads as DOUBLE, to whole milliseconds).
 */
import { KllSketch } from '../data/profile/kll-sketch.ts';
import { StratumError } from '../errors/index.ts';
import {
  columnsRequiringValues,
  isStringTransform,
  parseFeatureSpec,
  type FeatureSpec,
  type TransformSpec,
} from './feature-spec.ts';
import {
  FITTED_FEATURES_FORMAT,
  featureNamesOf,
  type FittedFeatures,
  type FittedTransform,
  type RawInput,
} from './fitted-features.ts';
import { toRawDouble, toRawNumber, toRawString } from './raw-value.ts';
import { textBuckets } from './text-hash.ts';

/** A training row: column name → raw cell. */
export type FeatureRow = Readonly<Record<string, unknown>>;

/** Training rows, streamed or in memory. */
export type FeatureRows = AsyncIterable<FeatureRow> | Iterable<FeatureRow>;

interface NumericStats {
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  /** Every non-missing value; kept only when a bucketize transform needs quantiles. */
  values: number[] | undefined;
  /** Value → count; kept only when an impute transform needs the most frequent value. */
  counts: Map<number, number> | undefined;
  /** Quantile sketch; kept only when a transform needs the median. */
  sketch: KllSketch | undefined;
}

/** Timestamps of a dateparts column: their mean and, when a transform fills with it, their median. */
interface DateStats {
  count: number;
  mean: number;
  sketch: KllSketch | undefined;
}

/**
 * Fits `spec` (validated with {@link parseFeatureSpec}) on `rows`.
 *
 * @throws StratumError BAD_REQUEST for an invalid spec, an empty data set, a column no row has
 *   (`transforms[2].column: column "x" …`), a column with no non-missing values, a missing value
 *   where a transform has `missing: error` (naming the row), or a cell of the wrong type.
 * @example
 * ```ts
 * const fitted = await fitFeatures({ transforms: [{ column: 'age', transform: 'standardize' }] }, rows)
 * const json = JSON.stringify(fitted)
 * ```
 */
export async function fitFeatures(spec: unknown, rows: FeatureRows): Promise<FittedFeatures> {
  const parsed = parseFeatureSpec(spec);
  const numeric = new Map<string, NumericStats>();
  const categories = new Map<string, Map<string, number>>();
  /** Non-missing values per hashed column. */
  const hashed = new Map<string, number>();
  /** Timestamps (full float64) per dateparts column, for the fill of missing ones. */
  const dates = new Map<string, DateStats>();
  const required = columnsRequiringValues(parsed);
  for (const transform of parsed.transforms) {
    if (isStringTransform(transform)) {
      if (transform.transform === 'onehot') categories.set(transform.column, new Map());
      if (transform.transform === 'hash') hashed.set(transform.column, 0);
      continue;
    }
    const median =
      transform.transform === 'impute'
        ? transform.strategy === 'median'
        : 'missing' in transform && transform.missing === 'median';
    if (transform.transform === 'dateparts') {
      const stats = dates.get(transform.column) ?? { count: 0, mean: 0, sketch: undefined };
      if (median) stats.sketch ??= new KllSketch();
      dates.set(transform.column, stats);
      continue;
    }
    const stats = numeric.get(transform.column) ?? emptyStats();
    if (transform.transform === 'bucketize' && transform.boundaries === undefined) stats.values ??= [];
    if (transform.transform === 'impute' && transform.strategy === 'most_frequent') stats.counts ??= new Map();
    if (median) stats.sketch ??= new KllSketch();
    numeric.set(transform.column, stats);
  }

  const texts = new Map<number, TextStats>();
  parsed.transforms.forEach((transform, index) => {
    if (transform.transform === 'text') texts.set(index, { docs: 0, df: new Uint32Array(transform.buckets) });
  });

  const present = new Set<string>();
  /** The first row missing a value (NaN, null, or no such key) of each column in `required`. */
  const missingAt = new Map<string, number>();
  let rowCount = 0;
  for await (const row of rows) {
    rowCount++;
    for (const [column, stats] of numeric) {
      const value = Object.hasOwn(row, column) ? toRawNumber({ column, value: row[column] }) : Number.NaN;
      if (Object.hasOwn(row, column)) present.add(column);
      if (Number.isFinite(value)) addValue(stats, value);
      else if (Number.isNaN(value) && required.has(column) && !missingAt.has(column)) missingAt.set(column, rowCount);
    }
    for (const [column, counts] of categories) {
      if (!Object.hasOwn(row, column)) continue;
      present.add(column);
      const value = toRawString({ column, value: row[column] });
      if (value !== '') counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    for (const [column, count] of hashed) {
      if (!Object.hasOwn(row, column)) continue;
      present.add(column);
      if (toRawString({ column, value: row[column] }) !== '') hashed.set(column, count + 1);
    }
    for (const [column, stats] of dates) {
      const value = Object.hasOwn(row, column) ? toRawDouble({ column, value: row[column] }) : Number.NaN;
      if (Object.hasOwn(row, column)) present.add(column);
      if (Number.isFinite(value)) {
        stats.count++;
        stats.mean += (value - stats.mean) / stats.count;
        stats.sketch?.update(value);
      } else if (Number.isNaN(value) && required.has(column) && !missingAt.has(column)) {
        missingAt.set(column, rowCount);
      }
    }
    for (const [index, stats] of texts) {
      const transform = parsed.transforms[index];
      if (transform?.transform !== 'text' || !Object.hasOwn(row, transform.column)) continue;
      present.add(transform.column);
      addText({ stats, transform, text: toRawString({ column: transform.column, value: row[transform.column] }) });
    }
  }
  if (rowCount === 0) throw new StratumError('BAD_REQUEST', 'cannot fit features on an empty data set (0 rows)');

  parsed.transforms.forEach((transform, index) => {
    if (!present.has(transform.column)) {
      throw new StratumError(
        'BAD_REQUEST',
        `transforms[${index}].column: column "${transform.column}" is not in any of the ${rowCount} training rows; check the spelling`,
        { details: { path: ['transforms', index, 'column'], column: transform.column } },
      );
    }
  });
  // Only now, so that a misspelt column is named as such rather than as missing in row 1.
  for (const [column, row] of missingAt) throw missingValue({ index: required.get(column) ?? 0, column, row });
  const transforms = parsed.transforms.map((transform, index) =>
    fitTransform({ transform, index, numeric, categories, texts, hashed, dates }),
  );
  return {
    format: FITTED_FEATURES_FORMAT,
    output: parsed.output,
    inputs: rawInputsOf(parsed),
    transforms,
    featureNames: transforms.flatMap(featureNamesOf),
  };
}

/** The error for a missing value in a column transform `index` reads with `missing: error`. */
function missingValue(options: { index: number; column: string; row: number }): StratumError {
  const { index, column, row } = options;
  return new StratumError(
    'BAD_REQUEST',
    `transforms[${index}].missing: column "${column}" has no value in training row ${row}, and a missing value is an error (missing: error, the default); set missing to mean, median or constant (with fillValue) to fill missing values`,
    { details: { path: ['transforms', index, 'missing'], column, row } },
  );
}

function emptyStats(): NumericStats {
  return {
    count: 0,
    mean: 0,
    m2: 0,
    min: Infinity,
    max: -Infinity,
    values: undefined,
    counts: undefined,
    sketch: undefined,
  };
}

function addValue(stats: NumericStats, value: number): void {
  stats.count++;
  const delta = value - stats.mean;
  stats.mean += delta / stats.count;
  stats.m2 += delta * (value - stats.mean);
  if (value < stats.min) stats.min = value;
  if (value > stats.max) stats.max = value;
  stats.values?.push(value);
  stats.counts?.set(value, (stats.counts.get(value) ?? 0) + 1);
  stats.sketch?.update(value);
}

/**
 * The raw columns a feature spec reads, as the exported graph takes them: STRING for the string
 * transforms, DOUBLE for a column any dateparts transform reads, else FLOAT. Known from the spec
 * alone, before any data is read.
 */
export function rawInputsOf(spec: FeatureSpec): RawInput[] {
  const inputs = new Map<string, RawInput>();
  for (const transform of spec.transforms) {
    if (inputs.has(transform.column)) continue;
    inputs.set(transform.column, {
      column: transform.column,
      type: isStringTransform(transform) ? 'STRING' : 'FLOAT',
    });
  }
  // a column any dateparts transform reads arrives as DOUBLE; the other numeric transforms cast it
  for (const transform of spec.transforms) {
    if (transform.transform === 'dateparts') inputs.set(transform.column, { column: transform.column, type: 'DOUBLE' });
  }
  return [...inputs.values()];
}

interface TextStats {
  /** Rows with a non-empty text. */
  docs: number;
  /** Per bucket, the rows whose text has an n-gram in it. */
  readonly df: Uint32Array;
}

type TextSpec = Extract<TransformSpec, { transform: 'text' }>;

function addText(options: { stats: TextStats; transform: TextSpec; text: string }): void {
  const { stats, transform, text } = options;
  if (text === '') return;
  stats.docs++;
  const [ngramMin, ngramMax] = transform.ngramRange;
  const seen = new Set(
    textBuckets({ text, lowercase: transform.lowercase, ngramMin, ngramMax, buckets: transform.buckets }),
  );
  for (const bucket of seen) stats.df[bucket] = (stats.df[bucket] ?? 0) + 1;
}

interface FitContext {
  readonly transform: TransformSpec;
  readonly index: number;
  readonly numeric: ReadonlyMap<string, NumericStats>;
  readonly categories: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly texts: ReadonlyMap<number, TextStats>;
  readonly hashed: ReadonlyMap<string, number>;
  readonly dates: ReadonlyMap<string, DateStats>;
}

type MissingSpec = Extract<TransformSpec, { missing: string }>;

/** The fitted fill of a missing value: null for `missing: error`, else float32 (whole ms for timestamps). */
function fillOf(transform: MissingSpec, stats: { mean: number; sketch: KllSketch | undefined }): number | null {
  const round = transform.transform === 'dateparts' ? Math.floor : Math.fround;
  switch (transform.missing) {
    case 'error':
      return null;
    case 'mean':
      return round(stats.mean);
    case 'median':
      return round(stats.sketch?.quantile(0.5) ?? stats.mean);
    case 'constant':
      return round(transform.fillValue ?? 0);
  }
}

function fitTransform(context: FitContext): FittedTransform {
  const { transform, index } = context;
  const name = transform.name ?? transform.column;
  if (transform.transform === 'onehot') {
    const counts = context.categories.get(transform.column) ?? new Map<string, number>();
    if (counts.size === 0) throw noValues(context);
    const vocabulary = [...counts]
      .filter(([, count]) => count >= transform.minCount)
      .sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, transform.topK)
      .map(([category]) => category);
    if (vocabulary.length === 0) {
      throw new StratumError(
        'BAD_REQUEST',
        `transforms[${index}].minCount: no category of column "${transform.column}" occurs ${transform.minCount} times; lower minCount`,
        { details: { path: ['transforms', index, 'minCount'], column: transform.column } },
      );
    }
    return { transform: 'onehot', column: transform.column, name, vocabulary };
  }
  if (transform.transform === 'text') {
    const stats = context.texts.get(index);
    if (stats === undefined || stats.docs === 0) throw noValues(context);
    const docs = stats.docs;
    return {
      transform: 'text',
      column: transform.column,
      name,
      lowercase: transform.lowercase,
      ngramMin: transform.ngramRange[0],
      ngramMax: transform.ngramRange[1],
      buckets: transform.buckets,
      idf:
        transform.weighting === 'tfidf'
          ? Array.from(stats.df, (df) => Math.fround(Math.log((1 + docs) / (1 + df)) + 1))
          : null,
      norm: transform.norm,
    };
  }
  if (transform.transform === 'hash') {
    if ((context.hashed.get(transform.column) ?? 0) === 0) throw noValues(context);
    return { transform: 'hash', column: transform.column, name, buckets: transform.buckets };
  }
  if (transform.transform === 'dateparts') {
    const stats = context.dates.get(transform.column);
    if (stats === undefined || stats.count === 0) throw noValues(context);
    return {
      transform: 'dateparts',
      column: transform.column,
      name,
      fill: fillOf(transform, stats),
      parts: transform.parts,
      encoding: transform.encoding,
    };
  }
  const stats = context.numeric.get(transform.column);
  if (stats === undefined || stats.count === 0) throw noValues(context);
  const mean = Math.fround(stats.mean);
  switch (transform.transform) {
    case 'standardize': {
      const std = Math.fround(Math.sqrt(stats.m2 / stats.count));
      const fill = fillOf(transform, stats);
      return { transform: 'standardize', column: transform.column, name, fill, mean, std: std > 0 ? std : 1 };
    }
    case 'minmax': {
      const scale = Math.fround(stats.max - stats.min);
      return {
        transform: 'minmax',
        column: transform.column,
        name,
        fill: fillOf(transform, stats),
        min: Math.fround(stats.min),
        scale: scale > 0 ? scale : 1,
        clip: transform.clip,
      };
    }
    case 'impute': {
      const fill =
        transform.strategy === 'constant'
          ? Math.fround(transform.value ?? 0)
          : transform.strategy === 'most_frequent'
            ? mostFrequent(stats.counts ?? new Map())
            : transform.strategy === 'median'
              ? Math.fround(stats.sketch?.quantile(0.5) ?? mean)
              : mean;
      return { transform: 'impute', column: transform.column, name, fill, indicator: transform.indicator };
    }
    case 'bucketize':
      return {
        transform: 'bucketize',
        column: transform.column,
        name,
        fill: fillOf(transform, stats),
        boundaries: transform.boundaries?.map(Math.fround) ?? quantiles(stats.values ?? [], transform.buckets),
        encoding: transform.encoding,
      };
  }
}

function noValues(context: FitContext): StratumError {
  const { transform, index } = context;
  return new StratumError(
    'BAD_REQUEST',
    `transforms[${index}].column: column "${transform.column}" has no non-missing values in the training rows; nothing to fit ${transform.transform} on`,
    { details: { path: ['transforms', index, 'column'], column: transform.column } },
  );
}

/** The most frequent value; ties go to the smallest, so fitting is deterministic. */
function mostFrequent(counts: ReadonlyMap<number, number>): number {
  let best = Number.NaN;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount || (count === bestCount && value < best)) {
      best = value;
      bestCount = count;
    }
  }
  return Math.fround(best);
}

/** Boundaries of `buckets` equal-frequency buckets, deduplicated (a skewed column may give fewer). */
function quantiles(values: number[], buckets: number): number[] {
  const sorted = Float64Array.from(values).sort();
  const boundaries: number[] = [];
  for (let i = 1; i < buckets; i++) {
    const boundary = Math.fround(sorted[Math.floor((i * sorted.length) / buckets)] ?? 0);
    if (boundaries.length === 0 || boundary > (boundaries.at(-1) ?? -Infinity)) boundaries.push(boundary);
  }
  return boundaries;
}
