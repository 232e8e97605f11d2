/** Dataset profiles: per-column statistics and mergeable sketches computed in one streaming pass. */
export {
  CategoricalSummarySchema,
  ColumnProfileSchema,
  DATASET_PROFILE_FORMAT,
  DatasetProfileSchema,
  NumericSummarySchema,
  PROFILE_QUANTILES,
  ProfileSettingsSchema,
  parseDatasetProfile,
  parseProfileSettings,
} from './dataset-profile.ts';
export type {
  CategoricalSummary,
  ColumnProfile,
  DatasetProfile,
  NumericSummary,
  ProfileOptions,
  ProfileSettings,
} from './dataset-profile.ts';
export { profileDataset } from './profile-dataset.ts';
export type { ProfileRow, ProfileRows } from './profile-dataset.ts';
export { mergeProfiles } from './merge-profiles.ts';
export { formatProfile } from './format-profile.ts';
export { DEFAULT_KLL_K, KllSketch } from './kll-sketch.ts';
export type { KllSketchState } from './kll-sketch.ts';
export { DistinctCounter } from './distinct-counter.ts';
export type { DistinctCounterState } from './distinct-counter.ts';
export { FrequentItems, MAX_CATEGORY_LENGTH } from './frequent-items.ts';
export type { FrequentItem, FrequentItemsState } from './frequent-items.ts';
