/**
 * Rows as text: CSV lines (RFC 4180 quoting; an empty cell is a missing value) or JSON Lines
 * objects (null for a missing value). Parquet outputs are assembled from CSV parts by DuckDB.
 */
import type { FileFormat } from './batch-spec.ts';

/** Formats one row (values in column order) as one line, newline included. */
export type RowFormatter = (values: readonly unknown[]) => string;

/** The part format of an output format: Parquet is written from CSV parts. */
export function partFormat(output: FileFormat): 'csv' | 'jsonl' {
  return output === 'jsonl' ? 'jsonl' : 'csv';
}

/** A formatter for `columns` in `format`. */
export function rowFormatter(format: 'csv' | 'jsonl', columns: readonly string[]): RowFormatter {
  if (format === 'csv') return (values) => values.map(csvCell).join(',') + '\n';
  const keys = columns.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  return (values) => {
    let line = '';
    for (let i = 0; i < keys.length; i++) line += keys[i] + jsonValue(values[i]);
    return `${line}}\n`;
  };
}

/** The CSV header line of `columns`. */
export function csvHeader(columns: readonly string[]): string {
  return columns.map(csvCell).join(',') + '\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = typeof value === 'string' ? value : String(value);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}
