/**
 * The `stratum.explain` metadata entry of an exported model (see src/explain/explain-metadata.ts):
 * a tree ensemble's covers in ONNX tree order, a linear model's training feature means, and for a
 * pipeline the name and raw column of every feature, so a served version can be explained per raw
 * column. A model without what its kind needs (trees without covers, a linear model without means)
 * gets no entry and cannot be explained.
 */
import { EXPLAIN_METADATA_KEY, type ExplainMetadata, explainMetadataText } from '../../explain/explain-metadata.ts';
import { featureNamesOf, type FittedFeatures } from '../../features/fitted-features.ts';
import { gbdtOnnxCovers } from '../gbdt/export-onnx.ts';
import type { GbdtModel } from '../gbdt/gbdt-model.ts';

/**
 * The metadata entries to add to the exported model.
 *
 * @param args.featureMeans the mean of each feature over the training rows (needed by linear SHAP).
 */
export function explainEntry(args: {
  /** The trained model (`PipelineModel`, narrowed so this module does not import the pipeline back). */
  model: { readonly kind: 'gbdt'; readonly model: GbdtModel } | { readonly kind: 'linear' | 'mlp' };
  fitted?: FittedFeatures;
  featureMeans?: readonly number[];
}): Record<string, string> {
  const { model, fitted } = args;
  const naming: ExplainMetadata =
    fitted === undefined
      ? {}
      : {
          features: fitted.featureNames,
          columns: fitted.transforms.flatMap((transform) => featureNamesOf(transform).map(() => transform.column)),
        };
  if (model.kind === 'gbdt') {
    const covers = gbdtOnnxCovers(model.model);
    return covers === undefined ? {} : { [EXPLAIN_METADATA_KEY]: explainMetadataText({ ...naming, covers }) };
  }
  if (model.kind === 'linear' && args.featureMeans !== undefined) {
    return { [EXPLAIN_METADATA_KEY]: explainMetadataText({ ...naming, means: [...args.featureMeans] }) };
  }
  return {};
}

/**
 * The mean of each column of a row-major matrix, in float64.
 *
 * @example
 * ```ts
 * columnMeans(Float32Array.of(1, 2, 3, 4), 2) // [2, 3]
 * ```
 */
export function columnMeans(matrix: Float32Array, width: number): number[] {
  const means = new Array<number>(width).fill(0);
  const rows = width === 0 ? 0 : matrix.length / width;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) means[i] = (means[i] as number) + (matrix[r * width + i] as number);
  }
  return rows === 0 ? means : means.map((sum) => sum / rows);
}
