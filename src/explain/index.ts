/**
 * Exact SHAP explanations: path-dependent TreeSHAP for tree ensembles, interventional linear SHAP
 * for linear models, the model metadata they need, and global importance for the model card.
 */
export {
  EXPLAIN_METADATA_KEY,
  type ExplainMetadata,
  explainMetadataText,
  parseExplainMetadata,
} from './explain-metadata.ts';
export { type ExplainLinear, linearShap } from './linear-shap.ts';
export { type ExplainedOutput, type Explainer, type ExplainMethod, readExplainer } from './read-explainer.ts';
export { type FeatureImportance, type ShapSample, shapImportance } from './shap-importance.ts';
export { type ExplainEnsemble, type ExplainTree, treeEnsembleFromOnnx } from './tree-ensemble.ts';
export { expectedValue, treeShap, type TreeShapResult } from './tree-shap.ts';
