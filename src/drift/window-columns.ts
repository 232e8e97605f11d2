/**
 * Turns the window's rows into the columns the reference has, read as the reference reads them:
 * numbers for a numeric column (numeric strings too, as a CSV-fed client sends them), category
 * names for a categorical one (booleans as `true`/`false`, as profiles count them). Missing,
 * non-finite and unreadable values are left out, as Evidently drops NaN.
 */
import type { CurrentColumn, NamedReference } from './drift-columns.ts';
import { valueKind } from './drift-columns.ts';

/** Rows read between yields to the event loop. */
const ROWS_PER_SLICE = 10_000;

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function toCategory(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * The window's columns for the given reference columns (only those that have at least one value:
 * a reference column the clients never send, such as the label, is left out). Yields to the event
 * loop every 10,000 rows so that a large window does not hold up requests.
 */
export async function windowColumns(
  rows: readonly Readonly<Record<string, unknown>>[],
  references: readonly NamedReference[],
): Promise<Map<string, CurrentColumn>> {
  const numeric = references.filter((r) => valueKind(r.column) === 'numeric').map((r) => r.name);
  const categorical = references.filter((r) => valueKind(r.column) === 'categorical').map((r) => r.name);
  const numbers = numeric.map(() => new Float64Array(rows.length));
  const filled = numeric.map(() => 0);
  const counts = categorical.map(() => new Map<string, number>());
  for (let start = 0; start < rows.length; start += ROWS_PER_SLICE) {
    const end = Math.min(rows.length, start + ROWS_PER_SLICE);
    for (let r = start; r < end; r++) {
      const row = rows[r] as Readonly<Record<string, unknown>>;
      for (let c = 0; c < numeric.length; c++) {
        const n = toNumber(row[numeric[c] as string]);
        if (n === undefined) continue;
        (numbers[c] as Float64Array)[filled[c] as number] = n;
        filled[c] = (filled[c] as number) + 1;
      }
      for (let c = 0; c < categorical.length; c++) {
        const key = toCategory(row[categorical[c] as string]);
        if (key === undefined) continue;
        const map = counts[c] as Map<string, number>;
        map.set(key, (map.get(key) ?? 0) + 1);
      }
    }
    if (end < rows.length) await new Promise((resolve) => setImmediate(resolve));
  }
  const columns = new Map<string, CurrentColumn>();
  numeric.forEach((name, c) => {
    const n = filled[c] as number;
    if (n > 0) columns.set(name, { kind: 'numeric', values: (numbers[c] as Float64Array).slice(0, n) });
  });
  categorical.forEach((name, c) => {
    const map = counts[c] as Map<string, number>;
    if (map.size > 0) columns.set(name, { kind: 'categorical', counts: map });
  });
  return columns;
}
