/**
 * One ONNX model from raw columns to predictions: the fitted feature graph (src/features) feeding
 * a trained linear model, tree ensemble or MLP, so a deployment takes the columns a client has and no
 * feature code runs outside the model. Whatever the algorithm, the outputs are the same
 * (`common/output-head.ts`): `label` and `probabilities` for classifiers, `predictions` for
 * regression, with the class names in the model's metadata. {@link predictPipeline} is the
 * TypeScript reference the exported graph is tested against.
 *
 * A row missing a value the pipeline does not fill (a column with `missing: error`) gets no
 * prediction: NaN float outputs (JSON null) and label -1, whatever the model would make of its
 * NaN features (a tree routes NaN down one branch; a ReLU turns it into 0).
 */
import { StratumError } from '../../errors/index.ts';
import { addFeatureGraph, addUnfilledRows, FEATURE_BATCH_DIM, FEATURE_OPSETS } from '../../features/export-onnx.ts';
import type { FeatureRow } from '../../features/fit.ts';
import { type FittedFeatures, unfilledColumns } from '../../features/fitted-features.ts';
import { toRawDouble } from '../../features/raw-value.ts';
import { transformBatch } from '../../features/transform.ts';
import { GraphBuilder, type ValueSpec } from '../../onnx/graph-builder.ts';
import { CLASSES_METADATA_KEY } from '../../onnx/model-metadata.ts';
import { LABEL_OUTPUT, PREDICTIONS_OUTPUT, PROBABILITIES_OUTPUT } from '../common/output-head.ts';
import { addGbdtGraph } from '../gbdt/export-onnx.ts';
import type { GbdtModel } from '../gbdt/gbdt-model.ts';
import { predictGbdt } from '../gbdt/predict.ts';
import { addLinearGraph } from '../linear/export-onnx.ts';
import type { LinearModel } from '../linear/linear-model.ts';
import { predictLinear } from '../linear/predict-linear.ts';
import { addMlpGraph, mlpValueNames } from '../mlp/export-onnx.ts';
import { explainEntry } from './explain-entry.ts';
import type { MlpModel } from '../mlp/mlp-model.ts';
import { predictMlp } from '../mlp/predict-mlp.ts';

/** The trained model behind the features, tagged with its kind. */
export type PipelineModel =
  | { readonly kind: 'linear'; readonly model: LinearModel }
  | { readonly kind: 'gbdt'; readonly model: GbdtModel }
  | { readonly kind: 'mlp'; readonly model: MlpModel };

/** Options for {@link exportPipelineModel}. */
export interface ExportPipelineOptions {
  /** The fitted feature pipeline; its raw columns become the graph inputs. */
  readonly fitted: FittedFeatures;
  /** The model trained on `transformBatch(fitted, rows)`; its width must be `fitted.featureNames.length`. */
  readonly model: PipelineModel;
  /** Graph name. @default 'pipeline_<kind>_<objective>' */
  readonly name?: string;
  /**
   * A classifier's class names (entry k names label k and column k of the probabilities), written
   * to the model's metadata under `stratum.classes` as a JSON array. @default none
   */
  readonly classes?: readonly (string | number | boolean)[];
  /**
   * The mean of each feature over the training rows, written to the model's `stratum.explain`
   * metadata so a linear model's SHAP values can be computed (trees need their covers instead).
   * @default none (a linear model then cannot be explained)
   */
  readonly featureMeans?: readonly number[];
}

/** Options for {@link predictPipeline}. */
export interface PredictPipelineOptions {
  /** The fitted feature pipeline. */
  readonly fitted: FittedFeatures;
  /** The trained model. */
  readonly model: PipelineModel;
  /** Raw rows, with the cell rules of `transformBatch` (missing cells allowed). */
  readonly rows: readonly FeatureRow[];
}

/** What {@link predictPipeline} returns: the exported graph's float output and, for classifiers, its labels. */
export interface PipelinePrediction {
  /** Name of the matching graph output: `probabilities` (classifiers) or `predictions` (regression). */
  readonly name: string;
  /** Row-major values or probabilities. */
  readonly outputs: Float32Array;
  /** `[rows, width]`. */
  readonly shape: readonly [number, number];
  /** Predicted class per row (the graph's `label` output); only for classifiers. */
  readonly labels?: Int32Array;
}

/** The label a classifier gives a row without a prediction. */
const NO_LABEL = -1;

/** Values the fixed-shape model graphs define; a raw column or the feature output with one of these names would clash. */
const MODEL_VALUE_NAMES: Readonly<Record<Exclude<PipelineModel['kind'], 'mlp'>, readonly string[]>> = Object.freeze({
  linear: [
    'linear.weight',
    'linear.bias',
    'logits',
    'one',
    'p_positive',
    'p_negative',
    PREDICTIONS_OUTPUT,
    LABEL_OUTPUT,
    PROBABILITIES_OUTPUT,
  ],
  gbdt: [PREDICTIONS_OUTPUT, LABEL_OUTPUT, PROBABILITIES_OUTPUT],
});

/** The values `model`'s graph defines (an MLP's depend on its layers). */
function modelValueNames(model: PipelineModel): readonly string[] {
  return model.kind === 'mlp' ? mlpValueNames(model.model) : MODEL_VALUE_NAMES[model.kind];
}

/**
 * Builds the `.onnx` bytes of features and model in one graph. Inputs: one `[batch, 1]` tensor per
 * raw column (FLOAT with NaN for missing, STRING with `''` for missing). Outputs, whatever the
 * algorithm: `label` (INT64 `[batch]`) and `probabilities` (FLOAT `[batch, K]`) for classifiers,
 * `predictions` (FLOAT `[batch, 1]`) for regression.
 *
 * @throws StratumError BAD_REQUEST when the model's width is not the number of features, a raw
 *   column or the feature output is named like a value of the model graph, or `classes` does not
 *   have one name per class.
 * @example
 * ```ts
 * const bytes = exportPipelineModel({ fitted, model: { kind: 'gbdt', model: trained } })
 * await fetch(`${url}/api/v1/models/churn/versions`, { method: 'POST', body: bytes })
 * ```
 */
export function exportPipelineModel(options: ExportPipelineOptions): Uint8Array {
  const { fitted, model } = options;
  checkCompatible(fitted, model);
  if (options.classes !== undefined) checkClasses(model, options.classes);
  const builder = new GraphBuilder({
    name: options.name ?? `pipeline_${model.kind}_${model.model.objective}`,
    // only the domains the nodes use are imported: ai.onnx.ml for trees and one-hot, com.microsoft for text
    opsets: FEATURE_OPSETS,
    docString: `features: ${fitted.featureNames.join(', ')}`,
    metadata: {
      'stratum.model': model.kind,
      'stratum.objective': model.model.objective,
      ...(options.classes !== undefined && { [CLASSES_METADATA_KEY]: JSON.stringify(options.classes) }),
      ...explainEntry({
        model,
        fitted,
        ...(options.featureMeans !== undefined && { featureMeans: options.featureMeans }),
      }),
    },
  });
  const features = addFeatureGraph(builder, fitted);
  const graphOptions = { input: features, batchDim: FEATURE_BATCH_DIM };
  const outputs: ValueSpec[] =
    model.kind === 'linear'
      ? addLinearGraph(builder, model.model, graphOptions)
      : model.kind === 'mlp'
        ? addMlpGraph(builder, model.model, graphOptions)
        : addGbdtGraph(builder, model.model, { ...graphOptions, regressionOutput: PREDICTIONS_OUTPUT });
  const unfilled = addUnfilledRows(builder, fitted);
  for (const output of outputs) {
    if (unfilled !== undefined) withoutPrediction(builder, { output, unfilled });
    builder.addOutput(output);
  }
  return builder.toBytes();
}

/**
 * Rewrites `output` (computed by the model under its final name) to be NaN (a float output) or
 * {@link NO_LABEL} (an INT64 label) in the rows where `unfilled` (BOOL `[batch, 1]`) is true.
 */
function withoutPrediction(builder: GraphBuilder, args: { output: ValueSpec; unfilled: string }): void {
  const { output, unfilled } = args;
  const computed = builder.renameValue(output.name, builder.freshName(`${output.name}_computed`));
  if (output.type === 'INT64') {
    // The label is [batch], the mask [batch, 1].
    const axes = builder.addInitializer({
      name: builder.freshName('unfilled_axes'),
      dims: [1],
      data: BigInt64Array.of(1n),
    });
    const rows = builder.addNode({ op: 'Squeeze', inputs: [unfilled, axes] });
    const none = builder.addInitializer({
      name: builder.freshName('no_label'),
      dims: [],
      data: BigInt64Array.of(BigInt(NO_LABEL)),
    });
    builder.addNode({ op: 'Where', inputs: [rows, none, computed], outputs: [output.name] });
  } else {
    const nan = builder.addInitializer({
      name: builder.freshName('no_prediction'),
      dims: [],
      data: Float32Array.of(NaN),
    });
    builder.addNode({ op: 'Where', inputs: [unfilled, nan, computed], outputs: [output.name] });
  }
}

/**
 * The TypeScript reference of {@link exportPipelineModel}: `transformBatch` then `predictLinear`, `predictGbdt` or `predictMlp`.
 *
 * @throws StratumError BAD_REQUEST when a cell has the wrong type or the model's width is not the number of features.
 * @example
 * ```ts
 * const { outputs } = predictPipeline({ fitted, model, rows: [{ age: 41, city: 'paris' }] }) // [p0, p1]
 * ```
 */
export function predictPipeline(options: PredictPipelineOptions): PipelinePrediction {
  const unfilled = unfilledColumns(options.fitted);
  const missing = (row: FeatureRow): boolean =>
    unfilled.some((column) => Number.isNaN(toRawDouble({ column, value: row[column] })));
  if (!options.rows.some(missing)) return predictRows(options);
  // The models refuse NaN features: a row without a prediction is predicted with 0 for its missing
  // values, and its outputs are dropped.
  const zeros = Object.fromEntries(unfilled.map((column) => [column, 0]));
  const prediction = predictRows({
    ...options,
    rows: options.rows.map((row) => (missing(row) ? { ...row, ...zeros } : row)),
  });
  const width = prediction.shape[1];
  options.rows.forEach((row, r) => {
    if (!missing(row)) return;
    prediction.outputs.fill(Number.NaN, r * width, (r + 1) * width);
    if (prediction.labels !== undefined) prediction.labels[r] = NO_LABEL;
  });
  return prediction;
}

/** {@link predictPipeline} of rows that all have the values the pipeline needs. */
function predictRows(options: PredictPipelineOptions): PipelinePrediction {
  const { fitted, model, rows } = options;
  checkCompatible(fitted, model);
  const { data } = transformBatch(fitted, rows);
  if (model.kind === 'linear' || model.kind === 'mlp') {
    const { values, shape } =
      model.kind === 'linear'
        ? predictLinear(model.model, { features: data })
        : predictMlp(model.model, { features: data });
    if (model.model.objective === 'regression') return { name: PREDICTIONS_OUTPUT, outputs: values, shape };
    return { name: PROBABILITIES_OUTPUT, outputs: values, shape, labels: argMaxRows(values, shape[1]) };
  }
  const prediction = predictGbdt(model.model, data);
  const width = model.model.objective === 'regression' ? 1 : model.model.numClasses;
  const shape = [rows.length, width] as const;
  if (prediction.labels === undefined) return { name: PREDICTIONS_OUTPUT, outputs: prediction.outputs, shape };
  return { name: PROBABILITIES_OUTPUT, outputs: prediction.outputs, shape, labels: prediction.labels };
}

/** The index of each row's largest value, the first on a tie (as ONNX `ArgMax` decides). */
function argMaxRows(values: Float32Array, width: number): Int32Array {
  const labels = new Int32Array(values.length / width);
  for (let row = 0; row < labels.length; row++) {
    let best = 0;
    for (let k = 1; k < width; k++) {
      if ((values[row * width + k] as number) > (values[row * width + best] as number)) best = k;
    }
    labels[row] = best;
  }
  return labels;
}

function checkClasses(model: PipelineModel, classes: readonly unknown[]): void {
  const { objective } = model.model;
  const width = model.kind === 'gbdt' ? model.model.numClasses : model.model.numOutputs;
  const expected = objective === 'regression' ? 0 : objective === 'binary' ? 2 : width;
  if (classes.length !== expected) {
    throw new StratumError(
      'BAD_REQUEST',
      `classes: a ${objective} model needs ${expected} class names (one per column of its probabilities), got ${classes.length}`,
    );
  }
}

function checkCompatible(fitted: FittedFeatures, model: PipelineModel): void {
  const width = fitted.featureNames.length;
  if (model.model.numFeatures !== width) {
    throw new StratumError(
      'BAD_REQUEST',
      `model: expected numFeatures ${width} (the fitted pipeline's features), got ${model.model.numFeatures}; train the model on transformBatch(fitted, rows)`,
    );
  }
  const reserved = modelValueNames(model);
  for (const name of [...fitted.inputs.map((input) => input.column), fitted.output]) {
    if (reserved.includes(name)) {
      throw new StratumError(
        'BAD_REQUEST',
        `fitted: "${name}" is a value name of the ${model.kind} graph (${reserved.join(', ')}); rename the column or the feature output`,
      );
    }
  }
}
