/** Runs an exported feature model in onnxruntime-node on raw rows. */
import * as ort from 'onnxruntime-node';
import type { FeatureRow } from '../../src/features/fit.ts';
import type { FittedFeatures } from '../../src/features/fitted-features.ts';
import { toRawColumns } from '../../src/features/raw-columns.ts';

/** The ORT feeds for `rows`: one `[N,1]` tensor per raw column. */
export function featureFeeds(fitted: FittedFeatures, rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const column of toRawColumns(fitted, rows)) {
    feeds[column.column] =
      column.type === 'STRING'
        ? new ort.Tensor('string', column.data, [rows.length, 1])
        : column.type === 'DOUBLE'
          ? new ort.Tensor('float64', column.data, [rows.length, 1])
          : new ort.Tensor('float32', column.data, [rows.length, 1]);
  }
  return feeds;
}

/** Runs `session` on `rows` and returns the feature matrix. */
export async function runFeatures(options: {
  readonly session: ort.InferenceSession;
  readonly fitted: FittedFeatures;
  readonly rows: readonly FeatureRow[];
}): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const { session, fitted, rows } = options;
  const results = await session.run(featureFeeds(fitted, rows));
  const output = results[fitted.output];
  if (output === undefined || !(output.data instanceof Float32Array)) throw new Error('no FLOAT feature output');
  return { data: output.data, dims: output.dims };
}
