/**
 * The raw reference sample training records for drift detection: up to 5,000 training rows drawn
 * uniformly with a seed (partial Fisher–Yates), their raw input columns only (the label is left
 * out, as live requests do not carry it). With it drift is judged by the exact tests on raw
 * values; without it (versions trained before it was recorded) on the profile's bins.
 */
import { mulberry32 } from '../../random/mulberry32.ts';
import type { TrainingRow } from './read-training-data.ts';

/** Rows kept at most. */
export const REFERENCE_SAMPLE_ROWS = 5000;

/** A JSON-safe cell: Dates as ISO strings, bigints as numbers, objects dropped. */
function jsonCell(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object') return null;
  return value;
}

/** The sample, in the data's order. */
export function referenceSample(options: {
  readonly rows: readonly TrainingRow[];
  readonly label: string;
  readonly seed: number;
  /** @default REFERENCE_SAMPLE_ROWS */
  readonly size?: number;
}): { rows: Record<string, unknown>[] } {
  const { rows, label } = options;
  const size = Math.min(rows.length, options.size ?? REFERENCE_SAMPLE_ROWS);
  const indices = Array.from({ length: rows.length }, (_, i) => i);
  const random = mulberry32(options.seed);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (rows.length - i));
    [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
  }
  const picked = indices.slice(0, size).sort((a, b) => a - b);
  return {
    rows: picked.map((i) => {
      const row: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(rows[i] as TrainingRow)) {
        if (key !== label) row[key] = jsonCell(value);
      }
      return row;
    }),
  };
}
