/**
 * The trainers: linear/logistic/softmax regression, the multilayer perceptron and gradient-boosted
 * trees on float32 feature matrices, their predictions, their ONNX exports (alone or behind the
 * fitted features as one pipeline graph), held-out evaluation, and tracked runs from a training spec.
 * Each trainer's parameters are one zod schema (`linearParams`, `mlpParams`, `gbdtParams`) with their
 * ranges and defaults, read by the spec and by the trainer alike.
 */
export { trainLinear } from './linear/train-linear.ts';
export { linearParams } from './linear/linear-params.ts';
export type { LinearParams, LinearParamsInput } from './linear/linear-params.ts';
export type {
  LinearHistoryEntry,
  LinearTrainingParams,
  LinearValidationSet,
  TrainLinearOptions,
  TrainLinearResult,
} from './linear/train-linear.ts';
export type { LinearModel, LinearObjective } from './linear/linear-model.ts';
export { predictLinear } from './linear/predict-linear.ts';
export type { LinearPrediction, PredictLinearOptions } from './linear/predict-linear.ts';
export { exportLinearOnnx } from './linear/export-onnx.ts';
export type { ExportLinearOnnxOptions } from './linear/export-onnx.ts';

export { trainMlp } from './mlp/train-mlp.ts';
export { mlpParams } from './mlp/mlp-params.ts';
export type { MlpParams, MlpParamsInput } from './mlp/mlp-params.ts';
export type {
  MlpHistoryEntry,
  MlpTrainingParams,
  MlpValidationSet,
  TrainMlpOptions,
  TrainMlpResult,
} from './mlp/train-mlp.ts';
export type { MlpActivation, MlpLayer, MlpModel, MlpObjective } from './mlp/mlp-model.ts';
export { predictMlp } from './mlp/predict-mlp.ts';
export type { MlpPrediction, PredictMlpOptions } from './mlp/predict-mlp.ts';
export { exportMlpOnnx } from './mlp/export-onnx.ts';
export type { ExportMlpOnnxOptions } from './mlp/export-onnx.ts';

export { trainGbdt } from './gbdt/train-gbdt.ts';
export { gbdtParams } from './gbdt/gbdt-params.ts';
export type { GbdtParamsInput, GbdtParamsOutput } from './gbdt/gbdt-params.ts';
export type {
  GbdtCheckpointOptions,
  GbdtParams,
  GbdtProgress,
  GbdtValidationSet,
  TrainGbdtOptions,
} from './gbdt/train-gbdt.ts';
export type { GbdtModel, GbdtObjective, GbdtTree } from './gbdt/gbdt-model.ts';
export { predictGbdt } from './gbdt/predict.ts';
export type { GbdtPrediction } from './gbdt/predict.ts';
export { exportGbdtOnnx } from './gbdt/export-onnx.ts';
export type { ExportGbdtOnnxOptions } from './gbdt/export-onnx.ts';

export { exportPipelineModel, predictPipeline } from './pipeline/export-pipeline.ts';
export type {
  ExportPipelineOptions,
  PipelineModel,
  PipelinePrediction,
  PredictPipelineOptions,
} from './pipeline/export-pipeline.ts';

export { evaluateClassifier, evaluateRegressor } from './metrics/evaluate.ts';
export type {
  ClassifierReport,
  EvaluateClassifierOptions,
  EvaluateRegressorOptions,
  RegressorReport,
} from './metrics/evaluate.ts';

export { classifierBaseline, regressorBaseline } from './metrics/baseline.ts';
export type {
  ClassifierBaseline,
  ClassifierBaselineOptions,
  RegressorBaseline,
  RegressorBaselineOptions,
} from './metrics/baseline.ts';

export { runTraining } from './run/run-training.ts';
export type { TrainingContext, TrainingEvent, TrainingResult } from './run/run-training.ts';
export { parseTrainSpec, TrainSpecSchema } from './run/train-spec.ts';
export type { DataSource, TrainSpec, TrainSpecInput } from './run/train-spec.ts';
