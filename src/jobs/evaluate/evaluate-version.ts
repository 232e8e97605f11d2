/**
 * Scores a registered version on a labelled dataset: the model runs through onnxruntime (the
 * runtime pool, fed as batch inference feeds it, so the score is what a batch job would predict),
 * the rows are read and checked as training reads them, and the metrics are training's own
 * (`evaluateClassifier` / `evaluateRegressor`, named as runs record them). The task comes from the
 * model's outputs: `probabilities` → classification (class names from `stratum.classes`),
 * `predictions` → regression. A row the model gives no prediction (a missing value its features
 * refuse) is counted, not scored.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../../errors/index.ts';
import type { JobProgress } from '../../queue/job-queue.ts';
import type { Registry } from '../../registry/registry.ts';
import type { WireValueMetadata } from '../../runtime/messages.ts';
import type { LoadedModel, RuntimePool } from '../../runtime/runtime-pool.ts';
import {
  evaluateClassifier,
  evaluateRegressor,
  summaryMetrics,
  type ClassifierReport,
  type RegressorReport,
} from '../../train/metrics/evaluate.ts';
import { type ColumnPlan, type LabelledRows, readLabelledRows } from '../../train/run/read-training-data.ts';
import { resolveModel, type ResolvedModel } from '../batch/batch-model.ts';
import { buildFeeds, planFeeds } from '../batch/model-feeds.ts';
import type { JobPayload } from '../job-kinds.ts';
import { encodeEvaluationLabels } from './evaluation-labels.ts';

/** What is evaluated on what: the `evaluate` job's payload. */
export type EvaluatePayload = JobPayload<'evaluate'>;

/** Options of {@link evaluateVersion}. */
export interface EvaluateVersionOptions {
  readonly registry: Registry;
  /** Runs the model (one session, loaded for this evaluation and unloaded after it). */
  readonly runtime: RuntimePool;
  readonly payload: Omit<EvaluatePayload, 'record'>;
  /** Hears progress: reading, then the batches scored. @default none */
  readonly onProgress?: (progress: JobProgress) => void;
}

/** What an evaluation found. */
export interface EvaluationResult {
  readonly model: string;
  readonly version: number;
  readonly task: 'classification' | 'regression';
  /** The data: its source, content version and rows read and scored. */
  readonly data: {
    readonly name: string;
    readonly source: string;
    readonly version: string;
    readonly rows: number;
    readonly scored: number;
  };
  /** The rows not scored (no prediction, or a cell the model's input cannot take), and why the first one was not. */
  readonly unscored: { readonly rows: number; readonly first?: string };
  /** Summary metrics, named as a training run records them (`accuracy`, `roc_auc`…, `rmse`…). */
  readonly metrics: Readonly<Record<string, number>>;
  /** The full report (confusion matrix, per class scores, calibration…), with the class names. */
  readonly evaluation: (ClassifierReport & { readonly classes?: readonly string[] }) | RegressorReport;
}

/** Rows per run of the model. */
const BATCH_ROWS = 4096;

/** The model output a task scores. */
type Task =
  | { readonly kind: 'classification'; readonly output: 'probabilities'; readonly width: number | undefined }
  | { readonly kind: 'regression'; readonly output: 'predictions' };

/**
 * Evaluates the payload's version on its data.
 *
 * @throws StratumError MODEL_NOT_FOUND / VERSION_NOT_FOUND / ALIAS_NOT_FOUND for the model;
 *   BAD_REQUEST naming the file, row and column for the data (a missing label or input column, a
 *   label that is not one of the model's classes), or naming the input or output of a model this
 *   cannot score.
 * @example
 * ```ts
 * const result = await evaluateVersion({ registry, runtime, payload: { model: 'churn', alias: 'production', data, baseDir } });
 * result.metrics.roc_auc
 * ```
 */
export async function evaluateVersion(options: EvaluateVersionOptions): Promise<EvaluationResult> {
  const { registry, runtime, payload } = options;
  const model = await resolveModel({ ref: refOf(payload), registry });
  const key = `evaluate:${model.label}:${randomUUID()}`;
  const loaded = await runtime.load({
    key,
    bytes: model.bytes,
    instances: 1,
    settings: { intraOpThreads: 1, interOpThreads: 1 },
  });
  try {
    const task = taskOf(loaded.outputs, model.label);
    const inputs = columnInputs(loaded.inputs, model.label);
    const read = await readLabelledRows({
      data: payload.data,
      columns: columnPlanOf(inputs, task),
      baseDir: payload.baseDir,
      neededFor: (column) => `model ${model.label} takes it as input "${column}"`,
      onRows: (rows) => options.onProgress?.({ message: `reading data: ${rows.toLocaleString('en-US')} rows` }),
    });
    const labels = encodeEvaluationLabels({ read, task: task.kind, model, data: payload.data });
    const scored = await score({ runtime, loaded, key, task, read, labels, onProgress: options.onProgress });
    const planned = model.planned as Extract<ResolvedModel['planned'], { kind: 'registry' }>;
    const evaluation =
      task.kind === 'regression'
        ? evaluateRegressor({ targets: scored.labels, predictions: scored.outputs })
        : {
            ...evaluateClassifier({ labels: scored.labels, probabilities: scored.outputs, numClasses: scored.width }),
            ...(model.classes !== undefined && { classes: model.classes }),
          };
    return {
      model: planned.model,
      version: planned.version,
      task: task.kind,
      data: {
        name: payload.data.name ?? nameOf(payload.data.source),
        source: read.source,
        version: read.version,
        rows: read.rows.length,
        scored: scored.labels.length,
      },
      unscored: {
        rows: read.rows.length - scored.labels.length,
        ...(scored.firstUnscored !== undefined && { first: scored.firstUnscored }),
      },
      metrics: summaryMetrics(evaluation),
      evaluation,
    };
  } finally {
    await runtime.unload(key);
  }
}

/** The registry reference of the payload: `m@alias`, `m:3`, or `m` (the newest ready version). */
function refOf(payload: Pick<EvaluatePayload, 'model' | 'version' | 'alias'>): string {
  if (payload.alias !== undefined) return `${payload.model}@${payload.alias}`;
  if (payload.version !== undefined) return `${payload.model}:${payload.version}`;
  return payload.model;
}

function nameOf(source: EvaluatePayload['data']['source']): string {
  return 'path' in source ? (source.path.split(/[\\/]/).pop() ?? source.path) : source.format;
}

/** Which output the evaluation scores. */
function taskOf(outputs: readonly WireValueMetadata[], label: string): Task {
  const probabilities = outputs.find((o) => o.name === 'probabilities');
  if (probabilities !== undefined) {
    const width = probabilities.shape?.[1];
    return { kind: 'classification', output: 'probabilities', width: typeof width === 'number' ? width : undefined };
  }
  if (outputs.some((o) => o.name === 'predictions')) return { kind: 'regression', output: 'predictions' };
  throw new StratumError(
    'BAD_REQUEST',
    `model ${label} has neither a "probabilities" nor a "predictions" output (outputs: ${outputs.map((o) => o.name).join(', ')}): evaluate scores the classifiers and regressors Stratum trains`,
    { details: { model: label, outputs: outputs.map((o) => o.name) } },
  );
}

/** The model's inputs, each fed by the column of its name (`[batch]` or `[batch, 1]`). */
function columnInputs(inputs: readonly WireValueMetadata[], label: string): readonly WireValueMetadata[] {
  for (const input of inputs) {
    const shape = input.shape ?? [];
    if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new StratumError(
        'BAD_REQUEST',
        `model ${label}: input "${input.name}" has shape [${shape.join(', ')}]; evaluate feeds one column per input ([batch, 1]), as Stratum's trained pipelines take them`,
        { details: { model: label, input: input.name } },
      );
    }
  }
  return inputs;
}

/** The columns to read: one per input, text for string inputs, numbers (dates for doubles) otherwise. */
function columnPlanOf(inputs: readonly WireValueMetadata[], task: Task): ColumnPlan {
  const numbers = new Set<string>();
  const strings = new Set<string>();
  const dates = new Set<string>();
  for (const input of inputs) {
    if (input.type === 'string') strings.add(input.name);
    else numbers.add(input.name);
    // Stratum's date inputs are doubles; a CSV may write them as dates.
    if (input.type === 'float64') dates.add(input.name);
  }
  // The model decides what a missing value means (its features fill it, or it gives no prediction).
  return { numbers, strings, dates, required: new Map(), kinds: [], numericLabel: task.kind === 'regression' };
}

/** The scored rows' labels and outputs, row-major. */
interface Scored {
  readonly labels: Float64Array;
  readonly outputs: Float64Array;
  readonly width: number;
  readonly firstUnscored?: string;
}

/** Runs the model over the rows in batches; keeps the rows it gives a finite prediction. */
async function score(args: {
  runtime: RuntimePool;
  loaded: LoadedModel;
  key: string;
  task: Task;
  read: LabelledRows;
  labels: Float64Array;
  onProgress: ((progress: JobProgress) => void) | undefined;
}): Promise<Scored> {
  const { runtime, loaded, key, task, read, labels } = args;
  const feeds = planFeeds({ spec: {}, inputs: loaded.inputs, sourceColumns: loaded.inputs.map((i) => i.name) });
  const keptLabels: number[] = [];
  const keptOutputs: number[] = [];
  let width = task.kind === 'regression' ? 1 : (task.width ?? 0);
  let firstUnscored: string | undefined;
  const total = read.rows.length;
  for (let start = 0; start < total; start += BATCH_ROWS) {
    const rows = read.rows.slice(start, start + BATCH_ROWS);
    const built = buildFeeds(
      feeds,
      rows.map((row) => feeds.columns.map((column) => row[column])),
    );
    for (const [index, reason] of built.rejected) {
      firstUnscored ??= `${read.source}: ${read.positionOf(start + index)}: ${reason}`;
    }
    if (built.kept.length === 0) continue;
    const result = await runtime.run({ key, instance: 0, feeds: built.tensors, fetches: [task.output] });
    const output = result.outputs[0];
    if (output === undefined) throw new StratumError('INTERNAL', `the model gave no "${task.output}" output`);
    if (task.kind === 'classification') width = output.dims[1] ?? width;
    // Both scored outputs are float tensors (FP32): a typed array of numbers.
    const values = output.data as unknown as ArrayLike<number>;
    built.kept.forEach((rowIndex, k) => {
      const at = start + rowIndex;
      let finite = true;
      for (let c = 0; c < width; c++) finite &&= Number.isFinite(values[k * width + c]);
      if (!finite) {
        firstUnscored ??= `${read.source}: ${read.positionOf(at)}: the model gives no prediction (a missing value its features do not fill)`;
        return;
      }
      keptLabels.push(labels[at] as number);
      for (let c = 0; c < width; c++) keptOutputs.push(values[k * width + c] as number);
    });
    const done = Math.min(total, start + BATCH_ROWS);
    args.onProgress?.({
      fraction: done / total,
      message: `scored ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows`,
    });
  }
  if (keptLabels.length === 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `${read.source}: the model gives no prediction for any of the ${total} rows (first: ${firstUnscored ?? 'none'})`,
    );
  }
  return {
    labels: Float64Array.from(keptLabels),
    outputs: Float64Array.from(keptOutputs),
    width,
    ...(firstUnscored !== undefined && { firstUnscored }),
  };
}
