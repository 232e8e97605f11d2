/**
 * Judges one column: picks its test (the override or Evidently's default), computes the statistic
 * on the raw reference sample or on the profile's bins, compares it with the threshold, and lays
 * out the two histograms the report carries.
 */
import { StratumError } from '../errors/index.ts';
import { defaultTest, FEW_VALUES } from './choose-test.ts';
import type { DriftConfig, DriftTest } from './drift-config.ts';
import { P_VALUE_TESTS } from './drift-config.ts';
import type { CurrentColumn, ReferenceColumn } from './drift-columns.ts';
import { referenceRows, valueKind } from './drift-columns.ts';
import type { DriftColumn, DriftHistogram } from './drift-report.ts';
import {
  binCounts,
  chiSquare,
  jensenShannon,
  ksBinned,
  ksTwoSample,
  populationStability,
  standardDeviation,
  sturgesEdges,
  type TestOutcome,
  twoProportionZ,
  wassersteinBinned,
  wassersteinSamples,
} from './drift-statistics.ts';

/** The bucket of categories a profile did not keep, and of categories past the histogram's limit. */
export const OTHER_CATEGORY = '(other)';
/** Categories a report's histogram lists before gathering the rest under `(other)`. */
const HISTOGRAM_CATEGORIES = 30;
/** A reference with more distinct numbers than this is binned (Sturges) for JS and PSI, as Evidently does. */
const PER_VALUE_LIMIT = 20;
/** Evidently's floor of the Wasserstein norm (a constant reference). */
const MIN_NORM = 0.001;

/** What {@link columnDrift} needs. */
export interface ColumnDriftInput {
  readonly name: string;
  readonly reference: ReferenceColumn;
  /** Numbers ascending, or category counts. */
  readonly current: CurrentColumn;
  readonly config: Pick<DriftConfig, 'columns' | 'pValueThreshold' | 'distanceThreshold'>;
}

interface Aligned {
  readonly keys: string[];
  readonly reference: number[];
  readonly current: number[];
}

/** Judges one column (both sides non-empty). */
export function columnDrift(input: ColumnDriftInput): DriftColumn {
  const { name, reference, current } = input;
  const kind = valueKind(reference);
  const settings = input.config.columns[name];
  const refRows = referenceRows(reference);
  const distinct = distinctValues(reference, current);
  let test: DriftTest;
  if (settings?.test === undefined) {
    test = defaultTest({ kind, referenceRows: refRows, distinctValues: distinct });
  } else {
    test = settings.test;
    if ((test === 'ks' || test === 'wasserstein') && kind === 'categorical') {
      throw new StratumError(
        'BAD_REQUEST',
        `drift config columns.${name}.test: "${test}" compares numbers, and column "${name}" is categorical`,
      );
    }
  }
  const asCategories = kind === 'categorical' || test === 'chisquare' || test === 'z' || distinct <= FEW_VALUES;
  const pValueTest = P_VALUE_TESTS.has(test);
  const threshold = settings?.threshold ?? (pValueTest ? input.config.pValueThreshold : input.config.distanceThreshold);

  let outcome: TestOutcome;
  let histogram: DriftHistogram;
  if (asCategories) {
    const aligned = alignCategories(categoryCounts(reference), categoryCountsOf(current));
    outcome = categoricalOutcome(test, aligned);
    histogram = categoryHistogram(aligned);
  } else {
    const values = (current as Extract<CurrentColumn, { kind: 'numeric' }>).values;
    const bins = numericBins(reference, values);
    outcome = numericOutcome({ test, reference, current: values, bins });
    histogram = bins.keys === undefined ? binHistogram(bins) : categoryHistogram(bins as Aligned);
  }
  const statistic = Number.isFinite(outcome.statistic) ? outcome.statistic : Number.MAX_VALUE;
  const score = pValueTest ? (outcome.pValue ?? 1) : statistic;
  return {
    name,
    kind,
    test,
    statistic,
    ...(outcome.pValue !== undefined && { pValue: outcome.pValue }),
    threshold,
    drifted: pValueTest ? score < threshold : score >= threshold,
    histogram,
  };
}

/** Distinct values over both sides (numbers beyond a handful are not counted exactly: only "more than five" matters). */
function distinctValues(reference: ReferenceColumn, current: CurrentColumn): number {
  if (reference.kind === 'numeric-binned' && reference.valueCounts === undefined) return Infinity;
  const seen = new Set<string>();
  const limit = Math.max(FEW_VALUES, PER_VALUE_LIMIT) + 1;
  const add = (key: string): boolean => {
    seen.add(key);
    return seen.size < limit;
  };
  if (reference.kind === 'numeric') {
    for (const v of reference.values) if (!add(String(v))) return seen.size;
  } else {
    const counts = reference.kind === 'categorical' ? reference.counts : (reference.valueCounts ?? new Map());
    for (const key of counts.keys()) if (!add(key)) return seen.size;
    if (reference.kind === 'categorical' && reference.rest > 0) add(OTHER_CATEGORY);
  }
  if (current.kind === 'numeric') {
    for (const v of current.values) if (!add(String(v))) return seen.size;
  } else {
    for (const key of current.counts.keys()) if (!add(key)) return seen.size;
  }
  return seen.size;
}

/** A reference as category counts and the rows in no listed category. */
function categoryCounts(reference: ReferenceColumn): { counts: ReadonlyMap<string, number>; rest: number } {
  switch (reference.kind) {
    case 'categorical':
      return reference;
    case 'numeric':
      return { counts: countValues(reference.values), rest: 0 };
    case 'numeric-binned':
      if (reference.valueCounts === undefined) {
        throw new StratumError(
          'BAD_REQUEST',
          'a chisquare or z test needs the values of a numeric column, and its reference profile keeps only a histogram',
        );
      }
      return { counts: reference.valueCounts, rest: 0 };
  }
}

function categoryCountsOf(current: CurrentColumn): ReadonlyMap<string, number> {
  return current.kind === 'categorical' ? current.counts : countValues(current.values);
}

function countValues(values: Float64Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const compareKeys = (a: string, b: string): number => {
  const x = Number(a);
  const y = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * Both sides over the same categories: the union, or, when the reference lists only its top
 * categories, those and `(other)` (where current categories the reference does not list go too).
 */
function alignCategories(
  reference: { counts: ReadonlyMap<string, number>; rest: number },
  current: ReadonlyMap<string, number>,
): Aligned {
  const keys = new Set(reference.counts.keys());
  const partial = reference.rest > 0;
  if (!partial) for (const key of current.keys()) keys.add(key);
  const sorted = [...keys].sort(compareKeys);
  if (partial) sorted.push(OTHER_CATEGORY);
  const index = new Map(sorted.map((key, i) => [key, i]));
  const ref = new Array<number>(sorted.length).fill(0);
  const cur = new Array<number>(sorted.length).fill(0);
  for (const [key, count] of reference.counts) ref[index.get(key) as number] = count;
  if (partial) ref[sorted.length - 1] = reference.rest;
  for (const [key, count] of current) {
    const i = index.get(key) ?? sorted.length - 1;
    cur[i] = (cur[i] as number) + count;
  }
  return { keys: sorted, reference: ref, current: cur };
}

function categoricalOutcome(test: DriftTest, aligned: Aligned): TestOutcome {
  switch (test) {
    case 'chisquare':
      return chiSquare(aligned.reference, aligned.current);
    case 'z': {
      // Evidently compares the share of every category but the first (in sorted order).
      const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);
      const referenceRows = sum(aligned.reference);
      const currentRows = sum(aligned.current);
      const present = aligned.keys.filter(
        (_, i) => (aligned.reference[i] as number) + (aligned.current[i] as number) > 0,
      );
      if (present.length <= 1) return { statistic: 0, pValue: 1 };
      const first = aligned.keys.indexOf(present[0] as string);
      return twoProportionZ({
        referenceFirst: aligned.reference[first] as number,
        referenceRows,
        currentFirst: aligned.current[first] as number,
        currentRows,
      });
    }
    case 'jensenshannon':
      return { statistic: jensenShannon(aligned.reference, aligned.current) };
    case 'psi':
      return { statistic: populationStability(aligned.reference, aligned.current) };
    default:
      throw new StratumError('INTERNAL', `test ${test} is not a categorical test`);
  }
}

interface Bins {
  readonly edges?: number[];
  readonly keys?: string[];
  readonly reference: number[];
  readonly current: number[];
}

/**
 * The bins JS and PSI compare, which the report's histogram shows too: for a raw reference with
 * more than 20 distinct values Sturges bins over both sides (Evidently's `get_binned_data`), with
 * fewer one bin per value; for a profile its bins, widened to hold the current values.
 */
function numericBins(reference: ReferenceColumn, current: Float64Array): Bins {
  const curMin = current[0] as number;
  const curMax = current[current.length - 1] as number;
  if (reference.kind === 'numeric-binned') {
    const edges = [...reference.edges];
    const counts = [...reference.counts];
    if (curMin < (edges[0] as number)) {
      edges.unshift(curMin);
      counts.unshift(0);
    }
    if (curMax > (edges[edges.length - 1] as number)) {
      edges.push(curMax);
      counts.push(0);
    }
    return { edges, reference: counts, current: binCounts(edges, current) };
  }
  const values = (reference as Extract<ReferenceColumn, { kind: 'numeric' }>).values;
  if (fewDistinct(values, PER_VALUE_LIMIT)) {
    return alignCategories({ counts: countValues(values), rest: 0 }, countValues(current));
  }
  const edges = sturgesEdges({
    min: Math.min(values[0] as number, curMin),
    max: Math.max(values[values.length - 1] as number, curMax),
    size: values.length + current.length,
  });
  return { edges, reference: binCounts(edges, values), current: binCounts(edges, current) };
}

/** Whether an ascending array holds at most `limit` distinct values (stops at the first past it). */
function fewDistinct(sorted: Float64Array, limit: number): boolean {
  let distinct = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] !== sorted[i - 1] && ++distinct > limit) return false;
  }
  return true;
}

function numericOutcome(args: {
  test: DriftTest;
  reference: ReferenceColumn;
  current: Float64Array;
  bins: Bins;
}): TestOutcome {
  const { test, reference, current, bins } = args;
  switch (test) {
    case 'ks':
      return reference.kind === 'numeric-binned'
        ? ksBinned(reference, current)
        : ksTwoSample((reference as Extract<ReferenceColumn, { kind: 'numeric' }>).values, current);
    case 'wasserstein': {
      if (reference.kind === 'numeric-binned') {
        return { statistic: wassersteinBinned(reference, current) / Math.max(reference.std, MIN_NORM) };
      }
      const values = (reference as Extract<ReferenceColumn, { kind: 'numeric' }>).values;
      return { statistic: wassersteinSamples(values, current) / Math.max(standardDeviation(values), MIN_NORM) };
    }
    case 'jensenshannon':
      return { statistic: jensenShannon(bins.reference, bins.current) };
    case 'psi':
      return { statistic: populationStability(bins.reference, bins.current) };
    default:
      throw new StratumError('INTERNAL', `test ${test} is not a numeric test`);
  }
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

function binHistogram(bins: Bins): DriftHistogram {
  return { edges: bins.edges ?? [], reference: shares(bins.reference), current: shares(bins.current) };
}

/** The most common categories (by reference, then current), the rest under `(other)`. */
function categoryHistogram(aligned: Aligned): DriftHistogram {
  const order = aligned.keys
    .map((key, i) => ({ key, ref: aligned.reference[i] as number, cur: aligned.current[i] as number }))
    .sort((a, b) => b.ref - a.ref || b.cur - a.cur || compareKeys(a.key, b.key));
  const kept = order.filter((c) => c.key !== OTHER_CATEGORY).slice(0, HISTOGRAM_CATEGORIES);
  const keptKeys = new Set(kept.map((c) => c.key));
  const rest = order.filter((c) => !keptKeys.has(c.key));
  const rows = [...kept];
  if (rest.length > 0) {
    rows.push({
      key: OTHER_CATEGORY,
      ref: rest.reduce((a, c) => a + c.ref, 0),
      cur: rest.reduce((a, c) => a + c.cur, 0),
    });
  }
  return {
    categories: rows.map((c) => c.key),
    reference: shares(rows.map((c) => c.ref)),
    current: shares(rows.map((c) => c.cur)),
  };
}
