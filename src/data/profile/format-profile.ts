/** A dataset profile as a plain-text table for a terminal: one line per column. */
import type { ColumnProfile, DatasetProfile } from './dataset-profile.ts';

/** Characters of the histogram sparkline, lowest to highest bar. */
const BARS = '▁▂▃▄▅▆▇█';

/** Longest top-categories cell before it is cut with `…`. */
const TOP_WIDTH = 40;

/**
 * Renders `profile` as an aligned table: column, kind, missing (count and %), min, p50, max, mean,
 * std, distinct, the top categories and a histogram sparkline.
 *
 * @example
 * ```ts
 * console.log(formatProfile(await profileDataset(rows)))
 * // 1000 rows, 3 columns
 * // column  kind         missing      min    p50    max  …
 * ```
 */
export function formatProfile(profile: DatasetProfile): string {
  const header = ['column', 'kind', 'missing', 'min', 'p50', 'max', 'mean', 'std', 'distinct', 'top', 'histogram'];
  const rows = profile.columns.map((column) => cellsOf(column));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const title = `${profile.rows} rows, ${profile.columns.length} column${profile.columns.length === 1 ? '' : 's'}`;
  return [title, line(header), ...rows.map(line)].join('\n');
}

function cellsOf(column: ColumnProfile): string[] {
  const numeric = column.numeric;
  const strings = column.categorical;
  const missingShare = column.count === 0 ? 0 : (100 * column.missing) / column.count;
  const booleans = column.boolean;
  let top = '';
  if (strings !== null) {
    top = strings.top.map((item) => `${item.value} (${item.count}${strings.topExact ? '' : '+'})`).join(', ');
  } else if (booleans !== null) {
    top = `true (${booleans.trueCount}), false (${booleans.count - booleans.trueCount})`;
  }
  if (top.length > TOP_WIDTH) top = `${top.slice(0, TOP_WIDTH - 1)}…`;
  return [
    column.name,
    column.kind,
    `${column.missing} (${missingShare.toFixed(1)}%)`,
    number(numeric?.min),
    number(numeric?.quantiles?.p50),
    number(numeric?.max),
    number(numeric?.mean),
    number(numeric?.std),
    strings === null ? '' : `${strings.distinctExact ? '' : '~'}${strings.distinct}`,
    top,
    sparkline(numeric?.histogram?.counts),
  ];
}

function number(value: number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (Number.isInteger(value) && Math.abs(value) < 1e7) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e7) ? value.toExponential(3) : String(Number(value.toPrecision(5)));
}

function sparkline(counts: readonly number[] | undefined): string {
  if (counts === undefined || counts.length === 0) return '';
  const most = Math.max(...counts);
  return counts
    .map((count) => (count === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((count / most) * BARS.length))]))
    .join('');
}
