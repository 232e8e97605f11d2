/**
 * Combines the profiles of disjoint shards into the profile of their union, so shards can be
 * profiled in parallel. Counts, min, max and moments combine exactly (up to float rounding); the
 * sketches merge with the same error bounds as a single pass.
 */
import { StratumError } from '../../errors/index.ts';
import { ColumnAccumulator } from './column-accumulator.ts';
import type { DatasetProfile } from './dataset-profile.ts';
import { buildProfile } from './profile-dataset.ts';

/**
 * The profile of the rows of `a` followed by those of `b`. Columns keep `a`'s order, then `b`'s new ones.
 *
 * @throws StratumError BAD_REQUEST when the two were made with different settings.
 * @example
 * ```ts
 * const [a, b] = await Promise.all([profileDataset(shard0), profileDataset(shard1)])
 * const whole = mergeProfiles(a, b)
 * ```
 */
export function mergeProfiles(a: DatasetProfile, b: DatasetProfile): DatasetProfile {
  const settings = a.settings;
  for (const key of Object.keys(settings) as (keyof typeof settings)[]) {
    if (settings[key] !== b.settings[key]) {
      throw new StratumError(
        'BAD_REQUEST',
        `cannot merge profiles made with different settings: settings.${key} is ${settings[key]} and ${b.settings[key]}`,
      );
    }
  }
  const columns = new Map<string, ColumnAccumulator>();
  for (const profile of [a, b]) {
    for (const column of profile.columns) {
      const incoming = ColumnAccumulator.fromProfile(column, settings);
      const existing = columns.get(column.name);
      if (existing === undefined) columns.set(column.name, incoming);
      else existing.merge(incoming);
    }
  }
  return buildProfile({ columns, rows: a.rows + b.rows, settings });
}
