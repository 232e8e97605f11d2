/** Fitted feature transforms that export into a model's ONNX graph. */
export {
  BucketizeSpecSchema,
  DatePartsSpecSchema,
  FeatureSpecSchema,
  HashSpecSchema,
  ImputeSpecSchema,
  MISSING_POLICIES,
  MinMaxSpecSchema,
  MissingPolicySchema,
  OneHotSpecSchema,
  parseFeatureSpec,
  StandardizeSpecSchema,
  TextSpecSchema,
  TransformSpecSchema,
  isStringTransform,
} from './feature-spec.ts';
export type { FeatureSpec, FeatureSpecInput, TransformSpec } from './feature-spec.ts';
export {
  FITTED_FEATURES_FORMAT,
  FittedFeaturesSchema,
  FittedTransformSchema,
  featureNamesOf,
  parseFittedFeatures,
  unfilledColumns,
} from './fitted-features.ts';
export type { FittedFeatures, FittedTransform, RawInput } from './fitted-features.ts';
export { fitFeatures } from './fit.ts';
export type { FeatureRow, FeatureRows } from './fit.ts';
export { transformBatch, transformRow } from './transform.ts';
export type { FeatureBatch } from './transform.ts';
export { toRawColumns } from './raw-columns.ts';
export type { RawColumn } from './raw-columns.ts';
export { rawDoubleOf, toRawDouble, toRawNumber, toRawString } from './raw-value.ts';
export type { RawCell } from './raw-value.ts';
export {
  addFeatureGraph,
  addUnfilledRows,
  exportFeaturesModel,
  FEATURE_BATCH_DIM,
  FEATURE_OPSETS,
  TEXT_LOCALE,
} from './export-onnx.ts';
export { lowerCodePoints, murmurHash3, ngramBuckets, textBuckets, tokenize, TOKEN_PATTERN } from './text-hash.ts';
export { CYCLICAL_PERIODS, DATE_PARTS, datePartsOf } from './date-parts.ts';
export type { DatePart, DateParts } from './date-parts.ts';
