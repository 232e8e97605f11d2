/** Fits the features and trains both models on the synthetic tabular problem, as a test would in production. */
import { fitFeatures } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { transformBatch } from '../../../src/features/transform.ts';
import { trainGbdt } from '../../../src/train/gbdt/train-gbdt.ts';
import type { PipelineModel } from '../../../src/train/pipeline/export-pipeline.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { PIPELINE_SPEC, tabularRows } from './tabular-data.ts';

/** The fitted features and the two models trained on them. */
export interface TrainedPipeline {
  readonly fitted: FittedFeatures;
  readonly linear: PipelineModel;
  readonly gbdt: PipelineModel;
}

/** Fits {@link PIPELINE_SPEC} on `trainRows` seeded rows and trains logistic regression (Adam) and a GBDT classifier. */
export async function trainPipeline(options: { readonly trainRows: number }): Promise<TrainedPipeline> {
  const train = tabularRows({ count: options.trainRows, seed: 11 });
  const fitted = await fitFeatures(PIPELINE_SPEC, train.rows);
  const { data: features, dims } = transformBatch(fitted, train.rows);
  const numFeatures = dims[1];
  const linear = trainLinear({
    features,
    numFeatures,
    labels: train.labels,
    objective: 'binary',
    params: { optimizer: 'adam', learningRate: 0.02, l2: 1e-4, epochs: 15, batchSize: 64, seed: 5 },
  });
  const gbdt = trainGbdt({
    features,
    numFeatures,
    labels: train.labels,
    objective: 'binary',
    params: { numTrees: 60, maxDepth: 4, learningRate: 0.1, seed: 5 },
  });
  return { fitted, linear: { kind: 'linear', model: linear }, gbdt: { kind: 'gbdt', model: gbdt } };
}
