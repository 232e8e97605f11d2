/**
 * Plain-text tables for the CLI's human output: left-aligned columns separated by two spaces, an
 * upper-case header, no borders (so `grep` and `awk` still work on the output).
 */

/** A table to format. */
export interface TableInput {
  /** Column headers, in order. */
  readonly columns: readonly string[];
  /** One row per line; each row has one cell per column (missing cells print empty). */
  readonly rows: readonly (readonly string[])[];
  /** Columns aligned right (numbers). @default none */
  readonly alignRight?: readonly string[];
  /** Printed instead of a header alone when there are no rows. @default '(none)' */
  readonly empty?: string;
  /** Print the headers as given instead of upper-cased (when they are values, like ids). @default false */
  readonly keepHeaderCase?: boolean;
  /** Cut cells longer than this with `…` (a table of long values stays readable). @default no limit */
  readonly maxCellWidth?: number;
}

/** `text` cut to `width` characters, the last one `…`. */
export function truncate(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/**
 * Formats a table; every line ends with a newline.
 * @example formatTable({ columns: ['version', 'size'], rows: [['3', '2.6 MiB']] })
 */
export function formatTable(table: TableInput): string {
  if (table.rows.length === 0) return `${table.empty ?? '(none)'}\n`;
  const header = table.keepHeaderCase === true ? table.columns : table.columns.map((c) => c.toUpperCase());
  const right = new Set(table.alignRight ?? []);
  const max = table.maxCellWidth;
  const rows = max === undefined ? table.rows : table.rows.map((r) => r.map((cell) => truncate(cell, max)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    table.columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        const last = i === table.columns.length - 1;
        if (right.has(column)) return cell.padStart(width);
        return last ? cell : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `${l}\n`).join('');
}
