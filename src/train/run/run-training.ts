/**
 * One tracked training run, from a parsed spec to (optionally) a registered model version:
 * read and check the data (its content hash is the dataset version), profile it, split it, fit the
 * features on the training split, train, evaluate on the held-out split, export features + model
 * as one ONNX graph, store the artifacts, register. Everything after the run is created is
 * recorded: metrics by step, the summary metrics and artifacts, or the error of a failed run. A
 * registration behind an alias is checked first, against the signature the spec implies
 * (`expected-signature.ts`), before the run starts or any data is read: a move the alias's
 * deployments would refuse fails in a moment, not after training. The version is registered last,
 * with its alias in the same write, so a failure leaves nothing half-registered and uses up no
 * version number.
 */
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { profileDataset } from '../../data/profile/index.ts';
import { StratumError } from '../../errors/index.ts';
import { fitFeatures } from '../../features/fit.ts';
import type { FittedFeatures } from '../../features/fitted-features.ts';
import { transformBatch } from '../../features/transform.ts';
import { mulberry32 } from '../../random/mulberry32.ts';
import type { Registry } from '../../registry/registry.ts';
import type { MetadataStore, RunArtifact, RunRecord, VersionRecord } from '../../store/metadata-store.ts';
import { classifierBaseline, regressorBaseline } from '../metrics/baseline.ts';
import { evaluateClassifier, evaluateRegressor, summaryMetrics } from '../metrics/evaluate.ts';
import { columnMeans } from '../pipeline/explain-entry.ts';
import { exportPipelineModel, type PipelineModel } from '../pipeline/export-pipeline.ts';
import { fileSourceVersion, readTrainingData, type TrainingData, type TrainingRow } from './read-training-data.ts';
import { expectedSignature } from './expected-signature.ts';
import { referenceSample } from './reference-sample.ts';
import { sampleRequest } from './sample-request.ts';
import { trainModel, type TrainStep } from './train-model.ts';
import { type CardEvidence, collectCardEvidence } from '../card/card-evidence.ts';
import type { TrainSpec } from './train-spec.ts';
import type { SyncCollective } from '../parallel/sync-collective.ts';

/** What a run reports as it goes (for progress bars and logs). */
export type TrainingEvent =
  | { readonly phase: 'read'; readonly rows: number }
  | { readonly phase: 'run'; readonly runId: string; readonly datasetVersion: string }
  | {
      readonly phase: 'features';
      readonly numFeatures: number;
      readonly trainRows: number;
      readonly validationRows: number;
    }
  | ({ readonly phase: 'train' } & TrainStep)
  | { readonly phase: 'evaluate' }
  | { readonly phase: 'register'; readonly model: string; readonly version: number };

/** Where a run is recorded and its model registered. */
export interface TrainingContext {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  /** Needed only when the spec registers the model. */
  readonly registry?: Registry;
  /** Recorded as the author of the run, dataset version and model version. */
  readonly by: string;
  /** Folder that relative paths in the spec are resolved against (the CLI uses the working directory, as DuckDB does for paths inside queries). */
  readonly baseDir: string;
  /** The git commit of the code, when there is one. */
  readonly codeVersion?: string;
  /**
   * Move the spec's alias even where the new version does not fit what its deployments' clients
   * use; the reason is recorded in the alias history and the deployments' events.
   */
  readonly force?: { readonly reason: string };
  /**
   * The job running this training, recorded as the run's `stratum.job` param: a retried or
   * recovered job finds the run (and version) an earlier attempt made instead of making another.
   */
  readonly jobId?: string;
  readonly onEvent?: (event: TrainingEvent) => void;
  /**
   * Train as rank 0 of a distributed group (gbdt only); the other ranks run {@link trainAsRank}.
   * Only this rank records the run and registers the model, after every rank finished training.
   * Not with `stopAfter`: the ranks must stop at the same step. @default none (this process alone)
   */
  readonly collective?: SyncCollective;
  /**
   * Asked after every training step (with the step's losses); `true` ends training there, and the
   * run goes on to evaluate and record the model as it is — how a tuner's scheduler stops a trial
   * early. Synchronous, as the trainers are. @default never stops
   */
  readonly stopAfter?: (step: TrainStep) => boolean;
}

/** The result of a successful run. */
export interface TrainingResult {
  readonly run: RunRecord;
  /** Summary metrics on the held-out split. */
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * The same metrics of the baseline on the same rows (the training split's majority class for a
   * classifier, its mean for a regressor); the run records them as `baseline.<metric>`.
   */
  readonly baseline: Readonly<Record<string, number>>;
  /** The full evaluation report (confusion matrix, per class scores, calibration…). */
  readonly evaluation: unknown;
  /** The registered version, when the spec registers. */
  readonly version?: VersionRecord;
  /** The exported ONNX model. */
  readonly onnx: Uint8Array;
  readonly fitted: FittedFeatures;
  /** The trained model behind the features. */
  readonly model: PipelineModel;
  /** What the run measured for the model card (stored as its `card.json` artifact). */
  readonly card: CardEvidence;
}

/** The run param naming the job that ran it. */
export const JOB_PARAM = 'stratum.job';

/** A run records its baseline's value of metric `m` as `baseline.m`. */
export const BASELINE_PREFIX = 'baseline.';

/** Metric values are written in batches of this many steps (one transaction each). */
const METRIC_FLUSH_STEPS = 50;

/**
 * Runs a training spec. Bad data is refused with a BAD_REQUEST naming the file, row and column; once
 * the run exists, any failure finishes it as `failed` with the error before rethrowing.
 */
export async function runTraining(spec: TrainSpec, context: TrainingContext): Promise<TrainingResult> {
  const { store, by } = context;
  if (spec.register !== undefined && context.registry === undefined) {
    throw new StratumError('INTERNAL', 'the spec registers its model but no registry was given');
  }
  if (context.collective !== undefined && context.stopAfter !== undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      'a distributed run cannot stop early on one rank (stopAfter with collective)',
    );
  }
  await checkRegistration(spec, context);
  // A file's version is known before it is read, so a run exists (and records the failure) even
  // when the file turns out to be bad; a query's version is the hash of what it returned.
  const knownVersion = await fileSourceVersion(spec.data.source, context.baseDir);
  let run: RunRecord | undefined;
  const startRun = async (datasetVersion: string): Promise<RunRecord> => {
    const created = await store.createRun({
      name: spec.name,
      params: { ...spec, ...(context.jobId !== undefined && { [JOB_PARAM]: context.jobId }) } as Record<
        string,
        unknown
      >,
      datasetVersion,
      by,
      ...(context.codeVersion !== undefined && { codeVersion: context.codeVersion }),
    });
    context.onEvent?.({ phase: 'run', runId: created.id, datasetVersion });
    return created;
  };
  if (knownVersion !== undefined) run = await startRun(knownVersion);
  try {
    const data = await readTrainingData({
      spec,
      baseDir: context.baseDir,
      onRows: (rows) => context.onEvent?.({ phase: 'read', rows }),
    });
    run ??= await startRun(data.version);
    return await trainAndRecord({ spec, context, data, run });
  } catch (error) {
    if (run !== undefined) {
      const message = error instanceof Error ? error.message : String(error);
      await store.finishRun({ id: run.id, status: 'failed', error: message }).catch(() => undefined);
    }
    throw error;
  }
}

async function trainAndRecord(args: {
  spec: TrainSpec;
  context: TrainingContext;
  data: TrainingData;
  run: RunRecord;
}): Promise<TrainingResult> {
  const { spec, context, data, run } = args;
  const { store, by } = context;

  const profile = await profileDataset(withLabels(data, spec.data.label));
  await store.recordDatasetVersion({
    version: data.version,
    name: data.name,
    source: data.source,
    numRows: data.rows.length,
    profile,
    by,
  });

  const { split, fitted, trainMatrix, validationMatrix, numFeatures } = await featureMatrices(spec, data);
  context.onEvent?.({
    phase: 'features',
    numFeatures,
    trainRows: split.train.rows.length,
    validationRows: split.validation.rows.length,
  });

  const pending: { key: string; step: number; value: number }[] = [];
  const numClasses = spec.model.objective === 'regression' ? 0 : data.classes.length;
  const trained = trainModel({
    model: spec.model,
    numFeatures,
    numClasses,
    train: { features: trainMatrix.data, labels: split.train.labels },
    validation: { features: validationMatrix.data, labels: split.validation.labels },
    ...(context.collective !== undefined && { collective: context.collective }),
    onStep: (step) => {
      pending.push({ key: 'train_loss', step: step.step, value: step.trainLoss });
      if (step.validationLoss !== undefined) {
        pending.push({ key: 'validation_loss', step: step.step, value: step.validationLoss });
      }
      context.onEvent?.({ phase: 'train', ...step });
      return context.stopAfter?.(step) === true;
    },
  });
  while (pending.length > 0) {
    const batch = pending.splice(0, METRIC_FLUSH_STEPS * 2);
    await store.logRunMetrics(run.id, batch);
  }

  context.onEvent?.({ phase: 'evaluate' });
  const outputs = trained.predict(validationMatrix.data);
  const held = split.validation.labels;
  const [evaluation, baselineReport] =
    spec.model.objective === 'regression'
      ? [
          evaluateRegressor({ targets: held, predictions: outputs }),
          regressorBaseline({ trainingTargets: split.train.labels, targets: held }),
        ]
      : [
          evaluateClassifier({ labels: held, probabilities: outputs, numClasses }),
          classifierBaseline({ trainingLabels: split.train.labels, labels: held, numClasses }),
        ];
  const metrics = summaryMetrics(evaluation);
  const baseline = summaryMetrics(baselineReport);
  const onnx = exportPipelineModel({
    fitted,
    model: trained.pipelineModel,
    name: spec.name.replaceAll('-', '_'),
    ...(numClasses > 0 && { classes: data.classes }),
    featureMeans: columnMeans(trainMatrix.data, numFeatures),
  });
  const features = (rows: readonly TrainingRow[]): Float32Array => transformBatch(fitted, rows).data;
  const card = collectCardEvidence({
    spec,
    classes: data.classes,
    trainRows: split.train.rows.length,
    validation: { rows: split.validation.rows, labels: held },
    predict: (rows) => trained.predict(features(rows)),
    explain: { onnx, features },
    ...(trained.privacy !== undefined && { privacy: trained.privacy }),
  });
  const allMetrics = {
    ...metrics,
    ...(trained.privacy !== undefined && {
      'privacy.epsilon': trained.privacy.epsilon,
      'privacy.delta': trained.privacy.delta,
    }),
    ...Object.fromEntries(Object.entries(baseline).map(([key, value]) => [`${BASELINE_PREFIX}${key}`, value])),
    steps: trained.steps,
    best_step: trained.bestStep,
    train_rows: split.train.rows.length,
  };

  const encoder = new TextEncoder();
  const artifacts: RunArtifact[] = [];
  // A few real held-out rows as an inference request: the registered version is warmed up with
  // them when a deployment loads it.
  const samples = sampleRequest(fitted, split.validation.rows);
  for (const [name, bytes] of [
    ['model.onnx', onnx],
    ['features.json', encoder.encode(JSON.stringify(fitted))],
    [
      'evaluation.json',
      encoder.encode(JSON.stringify({ classes: data.classes, ...evaluation, baseline: baselineReport })),
    ],
    ...(samples === undefined ? [] : ([['samples.json', encoder.encode(JSON.stringify(samples))]] as const)),
    ['card.json', encoder.encode(JSON.stringify(card))],
  ] as const) {
    const stored = await context.artifacts.put(bytes);
    artifacts.push({ name, digest: stored.digest, size: stored.size });
  }
  const samplesDigest = artifacts.find((a) => a.name === 'samples.json')?.digest;

  const version =
    spec.register === undefined
      ? undefined
      : await register({ spec, context, run, onnx, metrics, data, samples: samplesDigest });
  const finished = await store.finishRun({ id: run.id, status: 'succeeded', metrics: allMetrics, artifacts });
  return {
    run: finished,
    metrics,
    baseline,
    evaluation,
    onnx,
    fitted,
    model: trained.pipelineModel,
    card,
    ...(version !== undefined && { version }),
  };
}

/** The split, the fitted features and both feature matrices: a function of the spec and the data alone. */
async function featureMatrices(spec: TrainSpec, data: TrainingData) {
  const split = splitRows({ data, fraction: spec.split.validation, seed: spec.split.seed });
  const fitted = await fitFeatures(spec.features, split.train.rows);
  const trainMatrix = transformBatch(fitted, split.train.rows);
  const validationMatrix = transformBatch(fitted, split.validation.rows);
  return { split, fitted, trainMatrix, validationMatrix, numFeatures: fitted.featureNames.length };
}

/** What a rank other than 0 did. */
export interface RankResult {
  /** Boosting rounds trained. */
  readonly steps: number;
  /** Training rows (of every rank). */
  readonly trainRows: number;
}

/**
 * The part of a distributed run a rank other than 0 plays: reads the spec's data, splits it and
 * fits the features exactly as rank 0 does (both are functions of the spec and the data), then
 * trains its shard with the others. It records nothing and registers nothing: rank 0 does.
 * @throws StratumError COLLECTIVE_FAILED when a rank dies or has other data.
 */
export async function trainAsRank(
  spec: TrainSpec,
  context: {
    readonly baseDir: string;
    readonly collective: SyncCollective;
    readonly onEvent?: TrainingContext['onEvent'];
  },
): Promise<RankResult> {
  const data = await readTrainingData({
    spec,
    baseDir: context.baseDir,
    onRows: (rows) => context.onEvent?.({ phase: 'read', rows }),
  });
  const { split, trainMatrix, validationMatrix, numFeatures } = await featureMatrices(spec, data);
  context.onEvent?.({
    phase: 'features',
    numFeatures,
    trainRows: split.train.rows.length,
    validationRows: split.validation.rows.length,
  });
  const trained = trainModel({
    model: spec.model,
    numFeatures,
    numClasses: spec.model.objective === 'regression' ? 0 : data.classes.length,
    train: { features: trainMatrix.data, labels: split.train.labels },
    validation: { features: validationMatrix.data, labels: split.validation.labels },
    collective: context.collective,
    onStep: (step) => context.onEvent?.({ phase: 'train', ...step }),
  });
  return { steps: trained.steps, trainRows: split.train.rows.length };
}

/**
 * Refuses (SIGNATURE_MISMATCH, as the move itself would) a registration whose alias the
 * deployments following it could not take, before anything is read or trained.
 */
async function checkRegistration(spec: TrainSpec, context: TrainingContext): Promise<void> {
  const target = spec.register;
  if (target?.alias === undefined || context.registry === undefined) return;
  await context.registry.checkAliasMove({
    model: target.model,
    alias: target.alias,
    signature: expectedSignature(spec),
    ...(context.force !== undefined && { force: true, reason: context.force.reason }),
  });
}

async function register(args: {
  spec: TrainSpec;
  context: TrainingContext;
  run: RunRecord;
  onnx: Uint8Array;
  metrics: Record<string, number>;
  data: TrainingData;
  /** Digest of the sample rows artifact, if any. */
  samples: string | undefined;
}): Promise<VersionRecord> {
  const { spec, context, run, onnx, metrics, data, samples } = args;
  const registry = context.registry as Registry;
  const target = spec.register as NonNullable<TrainSpec['register']>;
  const force = context.force;
  // The alias moves in the same write as the version: refused, it leaves no version behind.
  const version = await registry.pushVersion({
    model: target.model,
    bytes: onnx,
    by: context.by,
    description: target.description ?? `trained by run ${run.id} (${spec.name})`,
    metrics,
    lineage: {
      runId: run.id,
      datasetVersion: data.version,
      source: data.source,
      ...(samples !== undefined && { samples }),
    },
    ...(target.tags !== undefined && { tags: target.tags }),
    ...(target.alias !== undefined && {
      alias: {
        name: target.alias,
        reason: force === undefined ? `run ${run.id}` : `${force.reason} (run ${run.id})`,
        ...(force !== undefined && { force: true }),
      },
    }),
  });
  // The drift reference: raw training rows, for the exact tests (see src/drift).
  await context.store.recordReferenceSample({
    model: target.model,
    version: version.version,
    sample: referenceSample({ rows: data.rows, label: spec.data.label, seed: spec.split.seed }),
  });
  context.onEvent?.({ phase: 'register', model: target.model, version: version.version });
  return version;
}

/** The rows with their label put back (as read), so the profile covers the label too. */
function* withLabels(data: TrainingData, label: string): Generator<TrainingRow> {
  for (const [i, row] of data.rows.entries()) {
    const value = data.labels[i] as number;
    yield { ...row, [label]: data.classes.length === 0 ? value : data.classes[value] };
  }
}

interface Split {
  readonly rows: TrainingRow[];
  readonly labels: Float32Array;
}

/** A seeded random split: each row is held out with probability `fraction`. */
function splitRows(args: { data: TrainingData; fraction: number; seed: number }): { train: Split; validation: Split } {
  const { data, fraction, seed } = args;
  const random = mulberry32(seed);
  const held: boolean[] = data.rows.map(() => random() < fraction);
  const count = held.filter(Boolean).length;
  if (count === 0 || count === data.rows.length) {
    throw new StratumError(
      'BAD_REQUEST',
      `${data.source}: ${data.rows.length} rows are too few to hold out a validation split of ${fraction} (one side is empty)`,
    );
  }
  const pick = (want: boolean): Split => {
    const rows: TrainingRow[] = [];
    const labels = new Float32Array(want ? count : data.rows.length - count);
    data.rows.forEach((row, i) => {
      if (held[i] !== want) return;
      labels[rows.length] = data.labels[i] as number;
      rows.push(row);
    });
    return { rows, labels };
  };
  return { train: pick(false), validation: pick(true) };
}
