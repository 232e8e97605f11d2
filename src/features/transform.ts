/**
 * The TypeScript reference of a fitted pipeline. Every step rounds to float32 exactly where the
 * exported ONNX graph does (after each Sub, Div, …), so the two agree bit for bit on the same input;
 * calendar parts are computed in float64 like the graph's DOUBLE ops, and their sin/cos looked up
 * in the same float32 table. A row missing a value no transform fills (`missing: error`) gets NaN
 * for every feature, as the graph gives it.
 */
import type { FeatureRow } from './fit.ts';
import { type FittedFeatures, type FittedTransform, unfilledColumns } from './fitted-features.ts';
import { CYCLICAL_PERIODS, cyclicalTable, datePartsOf } from './date-parts.ts';
import { toRawDouble, toRawNumber, toRawString } from './raw-value.ts';
import { L2_NORM_FLOOR, murmurHash3, textBuckets } from './text-hash.ts';

/** A batch of feature rows. */
export interface FeatureBatch {
  /** Row-major FLOAT values, `dims[0] * dims[1]` of them. */
  readonly data: Float32Array;
  /** `[rows, features]`. */
  readonly dims: readonly [number, number];
}

/**
 * Transforms one raw row into its features (`fitted.featureNames.length` of them).
 *
 * @throws StratumError BAD_REQUEST when a cell has the wrong type. Missing columns count as missing
 *   values; a row missing a value of a column no transform fills gets NaN features.
 * @example
 * ```ts
 * const features = transformRow(fitted, { age: 41, city: 'paris' })
 * ```
 */
export function transformRow(fitted: FittedFeatures, row: FeatureRow): Float32Array {
  const out = new Float32Array(fitted.featureNames.length);
  writeRow({ fitted, unfilled: unfilledColumns(fitted), row, out });
  return out;
}

/** Transforms rows into one `[rows, features]` matrix. */
export function transformBatch(fitted: FittedFeatures, rows: readonly FeatureRow[]): FeatureBatch {
  const width = fitted.featureNames.length;
  const data = new Float32Array(rows.length * width);
  const unfilled = unfilledColumns(fitted);
  rows.forEach((row, i) => writeRow({ fitted, unfilled, row, out: data.subarray(i * width, (i + 1) * width) }));
  return { data, dims: [rows.length, width] };
}

interface WriteRow {
  readonly fitted: FittedFeatures;
  /** {@link unfilledColumns} of `fitted`. */
  readonly unfilled: readonly string[];
  readonly row: FeatureRow;
  readonly out: Float32Array;
}

function writeRow({ fitted, unfilled, row, out }: WriteRow): void {
  let offset = 0;
  for (const transform of fitted.transforms) offset = writeTransform({ transform, row, out, offset });
  for (const column of unfilled) {
    if (Number.isNaN(toRawDouble({ column, value: row[column] }))) {
      out.fill(Number.NaN);
      return;
    }
  }
}

interface WriteTransform {
  readonly transform: FittedTransform;
  readonly row: FeatureRow;
  readonly out: Float32Array;
  readonly offset: number;
}

/** Writes one transform's features at `offset`; returns the offset after them. */
function writeTransform({ transform, row, out, offset }: WriteTransform): number {
  const cell = { column: transform.column, value: row[transform.column] };
  if (transform.transform === 'text') return offset + writeText({ transform, text: toRawString(cell), out, offset });
  if (transform.transform === 'onehot') {
    const index = transform.vocabulary.indexOf(toRawString(cell));
    out.fill(0, offset, offset + transform.vocabulary.length + 1);
    out[offset + (index === -1 ? transform.vocabulary.length : index)] = 1;
    return offset + transform.vocabulary.length + 1;
  }
  if (transform.transform === 'hash') {
    const value = toRawString(cell);
    out.fill(0, offset, offset + transform.buckets);
    // a missing value ('') sets no bucket
    if (value !== '') out[offset + (murmurHash3(value) % transform.buckets)] = 1;
    return offset + transform.buckets;
  }
  if (transform.transform === 'dateparts') {
    const raw = toRawDouble(cell);
    // Without a fill (missing: error) the parts of time 0 stand in; the row is NaN in the end.
    const parts = datePartsOf(Number.isNaN(raw) ? (transform.fill ?? 0) : raw);
    let at = offset;
    for (const part of transform.parts) {
      const cycle = transform.encoding === 'cyclical' ? CYCLICAL_PERIODS[part] : undefined;
      if (cycle === undefined) {
        out[at++] = parts[part];
        continue;
      }
      const table = cyclicalTable(part);
      out[at++] = table.sin[parts[part] - cycle.start] ?? Number.NaN;
      out[at++] = table.cos[parts[part] - cycle.start] ?? Number.NaN;
    }
    return at;
  }
  const raw = toRawNumber(cell);
  // Without a fill (missing: error) 0 stands in; the row is NaN in the end (see writeRow).
  const x = Number.isNaN(raw) ? (transform.fill ?? 0) : raw;
  const f = Math.fround;
  switch (transform.transform) {
    case 'standardize':
      out[offset] = f(f(x - transform.mean) / transform.std);
      return offset + 1;
    case 'minmax': {
      const scaled = f(f(x - transform.min) / transform.scale);
      out[offset] = transform.clip ? Math.min(1, Math.max(0, scaled)) : scaled;
      return offset + 1;
    }
    case 'impute':
      out[offset] = x;
      if (transform.indicator) out[offset + 1] = Number.isNaN(raw) ? 1 : 0;
      return offset + (transform.indicator ? 2 : 1);
    case 'bucketize': {
      let bucket = 0;
      for (const boundary of transform.boundaries) if (x >= boundary) bucket++;
      if (transform.encoding === 'ordinal') {
        out[offset] = bucket;
        return offset + 1;
      }
      const width = transform.boundaries.length + 1;
      out.fill(0, offset, offset + width);
      out[offset + bucket] = 1;
      return offset + width;
    }
  }
}

/** Writes the hashed n-gram (TF-IDF) features; returns how many were written. */
function writeText(options: {
  readonly transform: Extract<FittedTransform, { transform: 'text' }>;
  readonly text: string;
  readonly out: Float32Array;
  readonly offset: number;
}): number {
  const { transform: t, text, offset } = options;
  const out = options.out.subarray(offset, offset + t.buckets);
  out.fill(0);
  for (const bucket of textBuckets({ ...t, text })) out[bucket] = (out[bucket] ?? 0) + 1;
  const f = Math.fround;
  if (t.idf !== null) for (let b = 0; b < t.buckets; b++) out[b] = f((out[b] ?? 0) * (t.idf[b] ?? 1));
  if (t.norm === 'l2') {
    let squares = 0;
    for (const value of out) squares = f(squares + f(value * value));
    const norm = Math.max(f(Math.sqrt(squares)), f(L2_NORM_FLOOR));
    for (let b = 0; b < t.buckets; b++) out[b] = f((out[b] ?? 0) / norm);
  }
  return t.buckets;
}
