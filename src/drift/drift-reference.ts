/**
 * A model version's drift reference, from what training recorded: a raw reference sample (rows of
 * raw inputs and, where recorded, the predictions on them) for the exact tests, or else the
 * training dataset's profile (histograms and top categories) for the binned ones.
 */
import type { ColumnProfile, DatasetProfile } from '../data/profile/index.ts';
import type { DriftReference, NamedReference, ReferenceColumn } from './drift-columns.ts';
import { FEW_VALUES } from './choose-test.ts';
import { sortNumbers } from './sort-numbers.ts';

/** Prediction columns are named `prediction.<output name>`. */
export const PREDICTION_PREFIX = 'prediction.';

/** A recorded reference sample: raw input rows, and the model's outputs on them row for row. */
export interface ReferenceSample {
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  readonly predictions?: readonly Readonly<Record<string, unknown>>[];
}

/** The columns of rows: numeric when every value present is a finite number, else categorical. */
function sampleColumns(rows: readonly Readonly<Record<string, unknown>>[], prefix: string): NamedReference[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  }
  const columns: NamedReference[] = [];
  for (const name of names) {
    const present = rows.map((row) => row[name]).filter((v) => v !== null && v !== undefined && v !== '');
    if (present.length === 0) continue;
    let column: ReferenceColumn;
    if (present.every((v) => typeof v === 'number')) {
      const values = Float64Array.from(present as number[]).filter(Number.isFinite);
      if (values.length === 0) continue;
      column = { kind: 'numeric', values: sortNumbers(values) };
    } else {
      const counts = new Map<string, number>();
      for (const v of present) {
        if (typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') continue;
        const key = String(v);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      if (counts.size === 0) continue;
      column = { kind: 'categorical', counts, rest: 0 };
    }
    columns.push({ name: prefix + name, column });
  }
  return columns;
}

/** The reference of a raw sample (predictions as `prediction.<output>` columns). */
export function referenceFromSample(sample: ReferenceSample): DriftReference {
  return {
    rows: sample.rows.length,
    source: 'sample',
    columns: [...sampleColumns(sample.rows, ''), ...sampleColumns(sample.predictions ?? [], PREDICTION_PREFIX)],
  };
}

/**
 * The counts of a numeric column's few values, read from its quantile sketch (a level-h item
 * stands for 2^h values), or undefined when the sketch holds more than five distinct values.
 */
function fewValueCounts(column: ColumnProfile): Map<string, number> | undefined {
  const levels = column.numeric?.state.sketch.levels ?? [];
  const counts = new Map<string, number>();
  for (const [h, items] of levels.entries()) {
    for (const item of items) {
      const key = String(item);
      counts.set(key, (counts.get(key) ?? 0) + 2 ** h);
      if (counts.size > FEW_VALUES) return undefined;
    }
  }
  return counts.size === 0 ? undefined : counts;
}

function profileColumn(column: ColumnProfile): ReferenceColumn | undefined {
  switch (column.kind) {
    case 'numeric': {
      const numeric = column.numeric;
      if (numeric?.histogram == null || numeric.std === null) return undefined;
      const valueCounts = fewValueCounts(column);
      return {
        kind: 'numeric-binned',
        edges: numeric.histogram.edges,
        counts: numeric.histogram.counts,
        std: numeric.std,
        ...(valueCounts !== undefined && { valueCounts }),
      };
    }
    case 'categorical': {
      const categorical = column.categorical;
      if (categorical === null || categorical.count === 0) return undefined;
      const counts = new Map(categorical.top.map((t) => [t.value, t.count]));
      let listed = 0;
      for (const count of counts.values()) listed += count;
      return { kind: 'categorical', counts, rest: Math.max(0, categorical.count - listed) };
    }
    case 'boolean': {
      const b = column.boolean;
      if (b === null || b.count === 0) return undefined;
      return {
        kind: 'categorical',
        counts: new Map([
          ['false', b.count - b.trueCount],
          ['true', b.trueCount],
        ]),
        rest: 0,
      };
    }
    default:
      return undefined;
  }
}

/** The reference of a training profile (mixed and empty columns are left out). */
export function referenceFromProfile(profile: DatasetProfile): DriftReference {
  const columns: NamedReference[] = [];
  for (const column of profile.columns) {
    const reference = profileColumn(column);
    if (reference !== undefined) columns.push({ name: column.name, column: reference });
  }
  return { rows: profile.rows, source: 'profile', columns };
}
