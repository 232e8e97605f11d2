/**
 * Judges every column the reference and the window share and sums the verdicts up: the share of
 * drifted columns, and dataset drift when it reaches the configured share (Evidently's
 * `drift_share`, ≥). Pure and synchronous: `drift-thread.ts` runs it off the event loop for large
 * windows.
 */
import { columnDrift } from './column-drift.ts';
import type { DriftConfig } from './drift-config.ts';
import type { CurrentColumn, NamedReference } from './drift-columns.ts';
import type { DriftColumn } from './drift-report.ts';
import { sortNumbers } from './sort-numbers.ts';

/** What {@link computeDrift} needs. */
export interface ComputeDriftInput {
  readonly references: readonly NamedReference[];
  /** The window's columns by name (numbers in any order: they are sorted here, in place). */
  readonly current: ReadonlyMap<string, CurrentColumn>;
  readonly config: Pick<DriftConfig, 'columns' | 'pValueThreshold' | 'distanceThreshold' | 'driftShare'>;
}

/** The verdicts. */
export interface DriftVerdict {
  readonly columns: DriftColumn[];
  readonly driftShare: number;
  readonly datasetDrift: boolean;
}

/** Judges the columns (in reference order; ignored and absent ones are left out). */
export function computeDrift(input: ComputeDriftInput): DriftVerdict {
  const columns: DriftColumn[] = [];
  for (const { name, column } of input.references) {
    if (input.config.columns[name]?.ignore === true) continue;
    const current = input.current.get(name);
    if (current === undefined) continue;
    if (current.kind === 'numeric') sortNumbers(current.values);
    columns.push(columnDrift({ name, reference: column, current, config: input.config }));
  }
  const drifted = columns.filter((c) => c.drifted).length;
  const driftShare = columns.length === 0 ? 0 : drifted / columns.length;
  return { columns, driftShare, datasetDrift: columns.length > 0 && driftShare >= input.config.driftShare };
}
