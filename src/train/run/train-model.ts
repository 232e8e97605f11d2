/**
 * The model step of a training run, one entry per model kind: train on the feature matrix with a
 * validation split for early stopping, report a loss per step, and predict what the exported graph
 * would (for the held-out evaluation). Adding a kind is one entry here and one in the spec.
 */
import { trainGbdt } from '../gbdt/train-gbdt.ts';
import { predictGbdt } from '../gbdt/predict.ts';
import { predictLinear } from '../linear/predict-linear.ts';
import { trainLinear } from '../linear/train-linear.ts';
import { predictMlp } from '../mlp/predict-mlp.ts';
import { trainMlp } from '../mlp/train-mlp.ts';
import type { PipelineModel } from '../pipeline/export-pipeline.ts';
import type { TrainSpec } from './train-spec.ts';
import type { SyncCollective } from '../parallel/sync-collective.ts';
import { StratumError } from '../../errors/index.ts';
import type { PrivacyReport } from '../privacy/dp-sgd.ts';

/** A feature matrix with its labels. */
export interface LabelledMatrix {
  /** Row-major `N × numFeatures`. */
  readonly features: Float32Array;
  readonly labels: Float32Array;
}

/** One step (epoch or boosting round) of training. */
export interface TrainStep {
  /** 1-based. */
  readonly step: number;
  /** Steps requested. */
  readonly total: number;
  readonly trainLoss: number;
  readonly validationLoss?: number;
}

/** Options of {@link trainModel}. */
export interface TrainModelOptions {
  readonly model: TrainSpec['model'];
  readonly numFeatures: number;
  /** Classes (2 for binary); 0 for regression. */
  readonly numClasses: number;
  readonly train: LabelledMatrix;
  readonly validation: LabelledMatrix;
  /** Called after every step; returning `true` (exactly) stops training there (a tuner's early stop). */
  readonly onStep?: (step: TrainStep) => unknown;
  /**
   * Train as one rank of a distributed group (gbdt only): every rank calls with the same inputs.
   * @default none (this process alone)
   */
  readonly collective?: SyncCollective;
}

/** A trained model, ready to export and to evaluate. */
export interface TrainedModel {
  readonly pipelineModel: PipelineModel;
  /** Steps run (early stopping may end before the budget). */
  readonly steps: number;
  /** The step whose model was kept. */
  readonly bestStep: number;
  /** What the exported graph's float output gives: values `N × 1` or probabilities `N × K`. */
  predict(features: Float32Array): Float32Array;
  /** What differentially private training spent (linear and mlp with `params.privacy`). */
  readonly privacy?: PrivacyReport;
}

/** The matrix, labels and class count every trainer takes, from the options. */
function commonInputs(options: TrainModelOptions) {
  const { model, numFeatures, train } = options;
  return {
    features: train.features,
    numFeatures,
    labels: train.labels,
    objective: model.objective,
    ...(model.objective === 'multiclass' && { numClasses: options.numClasses }),
  };
}

/** Reports an epoch of the linear model or the MLP as a step. */
function epochReporter(
  onStep: TrainModelOptions['onStep'],
  total: number,
): (entry: { epoch: number; loss: number; validationLoss?: number }) => unknown {
  return (entry) =>
    onStep?.({
      step: entry.epoch,
      total,
      trainLoss: entry.loss,
      ...(entry.validationLoss !== undefined && { validationLoss: entry.validationLoss }),
    });
}

/** Trains the spec's model. */
export function trainModel(options: TrainModelOptions): TrainedModel {
  const { model, validation, onStep, collective } = options;
  if (collective !== undefined && model.kind !== 'gbdt') {
    throw new StratumError(
      'BAD_REQUEST',
      `distributed training (several processes) trains gbdt models, not ${model.kind}`,
    );
  }
  if (model.kind === 'gbdt') {
    const trained = trainGbdt({
      ...commonInputs(options),
      // A rank trains on one thread: the processes are the shards.
      params: { ...model.params, validation, workers: collective === undefined ? model.workers : 1 },
      ...(collective !== undefined && { collective }),
      onProgress: (p) =>
        onStep?.({
          step: p.round,
          total: p.numTrees,
          trainLoss: p.trainLoss,
          ...(p.validationLoss !== undefined && { validationLoss: p.validationLoss }),
        }),
    });
    const losses = trained.validationLoss;
    const best = losses.length === 0 ? trained.roundsTrained : losses.indexOf(Math.min(...losses)) + 1;
    return {
      pipelineModel: { kind: 'gbdt', model: trained },
      steps: Math.max(losses.length, trained.roundsTrained),
      bestStep: Math.min(best, trained.roundsTrained),
      predict: (features) => predictGbdt(trained, features).outputs,
    };
  }
  if (model.kind === 'mlp') {
    const trained = trainMlp({
      ...commonInputs(options),
      params: { ...model.params, validation },
      onProgress: epochReporter(onStep, model.params.epochs),
    });
    return {
      pipelineModel: { kind: 'mlp', model: trained.model },
      steps: trained.history.length,
      bestStep: trained.bestEpoch,
      predict: (features) => predictMlp(trained.model, { features }).values,
      ...(trained.privacy !== undefined && { privacy: trained.privacy }),
    };
  }
  const trained = trainLinear({
    ...commonInputs(options),
    params: { ...model.params, validation, ...(model.workers !== undefined && { workers: model.workers }) },
    onProgress: epochReporter(onStep, model.params.epochs),
  });
  return {
    pipelineModel: { kind: 'linear', model: trained },
    steps: trained.history.length,
    bestStep: trained.bestEpoch,
    predict: (features) => predictLinear(trained, { features }).values,
    ...(trained.privacy !== undefined && { privacy: trained.privacy }),
  };
}
