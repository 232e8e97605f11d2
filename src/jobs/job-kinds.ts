/**
 * The kinds of job Stratum runs, each with the strict zod schema of its payload, in one table:
 * submission validates against it (so a bad spec is refused with its path before it is queued,
 * never later inside a worker), workers consume the kinds they have handlers for, and the API
 * documents them. Adding a kind is adding one entry here and one handler in `job-handlers.ts`.
 */
import { z } from 'zod';
import { checkTunePayload, TrialPayloadSchema, TunePayloadSchema } from './tune/tune-payloads.ts';
import { TrainSpecSchema, parseTrainSpec } from '../train/run/train-spec.ts';
import { CallbackPayloadSchema } from './callback-handler.ts';
import { InferAsyncPayloadSchema } from './infer-async-payload.ts';
import { StratumError } from '../errors/index.ts';
import { PipelinePayloadSchema } from '../pipelines/pipeline-payload.ts';
import { parsePipelineSpec } from '../pipelines/pipeline-spec.ts';
import { AliasNameSchema, ResourceNameSchema, VersionNumberSchema } from '../registry/names.ts';
import { type BatchSpec, batchChunkPayloadSchema, batchSpecSchema, checkBatchJobSpec } from './batch/batch-spec.ts';
import { checkFeedbackPayload, type FeedbackPayload, FeedbackPayloadSchema } from './feedback/feedback-payload.ts';

/** One kind: its payload schema and how it runs. */
export interface JobKind {
  /** The payload, strict: unknown keys are refused. */
  readonly payload: z.ZodType;
  /**
   * Cross-field rules the schema cannot say (a training spec's label may not be a feature);
   * throws a BAD_REQUEST whose message starts `invalid <where>: `.
   */
  readonly check?: (payload: never, where: string) => void;
  /**
   * CPU-heavy: its handler runs in a worker thread so the worker's event loop keeps renewing
   * locks and hearing cancellations.
   */
  readonly cpuHeavy: boolean;
  /**
   * Waits on child jobs of its own (a search's trials): a worker on the embedded queue runs it on
   * a consumer of its own, so that it never holds the slot its children need. @default false
   */
  readonly coordinates?: boolean;
  /** One line for the documentation. */
  readonly summary: string;
}

/** A path the payload names relative to (a spec's data files); absolute. */
const BaseDir = z.string().min(1).max(4096).regex(/^\//, 'must be an absolute path');

/** `train`: one tracked training run, as `stratum train` runs it inline. */
export const TrainPayloadSchema = z.strictObject({
  spec: TrainSpecSchema,
  /** Relative data paths in the spec are resolved against this folder. */
  baseDir: BaseDir,
  /** Move the spec's alias even where its deployments' clients could not use the new version. */
  force: z.strictObject({ reason: z.string().min(1).max(1024) }).optional(),
  /** The git commit of the code, when the submitter knows it. */
  codeVersion: z.string().min(1).max(256).optional(),
});

/**
 * `evaluate`: a registered version scored on a labelled dataset (the `data` of a training spec):
 * the version given, the one an alias points at, or the newest ready one.
 */
export const EvaluatePayloadSchema = z.strictObject({
  model: ResourceNameSchema,
  version: VersionNumberSchema.optional(),
  alias: AliasNameSchema.optional(),
  data: TrainSpecSchema.shape.data,
  /** Relative data paths are resolved against this folder. */
  baseDir: BaseDir,
  /** Record the evaluation as a run (params: the model, version and data; its metrics). @default true */
  record: z.boolean().default(true),
});

/** `noop`: does nothing (optionally for a while, optionally failing): for benchmarks and tests. */
export const NoopPayloadSchema = z.strictObject({
  /** Waits this long (ms), or until the job's signal aborts. */
  sleepMs: z.number().int().min(0).max(3_600_000).optional(),
  /** Fails every attempt (`true`), or the attempts up to this one (a number). */
  fail: z.union([z.boolean(), z.number().int().min(1).max(100)]).optional(),
  /** Reports this many progress steps while sleeping. */
  progressSteps: z.number().int().min(0).max(1000).optional(),
});

/** A version and an alias together would be ambiguous. */
function checkEvaluatePayload(payload: z.output<typeof EvaluatePayloadSchema>, where: string): void {
  if (payload.version !== undefined && payload.alias !== undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: give version or alias, not both (got version ${payload.version} and alias "${payload.alias}")`,
    );
  }
}

/** Every kind, by name. */
export const JOB_KINDS = {
  train: {
    payload: TrainPayloadSchema,
    check: (payload: z.output<typeof TrainPayloadSchema>, where: string) =>
      void parseTrainSpec(payload.spec, `${where}.spec`),
    cpuHeavy: true,
    summary: 'A tracked training run from a training spec; registers its model once, however often it is retried.',
  },
  evaluate: {
    payload: EvaluatePayloadSchema,
    check: (payload: z.output<typeof EvaluatePayloadSchema>, where: string) => checkEvaluatePayload(payload, where),
    // Reading the rows and the metrics run in the job's thread, the model in a runtime thread of its own.
    cpuHeavy: true,
    summary:
      'Scores a registered version (by number, alias, or the newest) on a labelled dataset through onnxruntime: accuracy, balanced accuracy, F1, ROC-AUC… or RMSE, MAE, R²; recorded as a run.',
  },
  'batch-infer': {
    payload: batchSpecSchema,
    check: (payload: BatchSpec, where: string) => checkBatchJobSpec(payload, where),
    // The model runs in the runtime pool's threads; the handler reads, converts and writes.
    cpuHeavy: false,
    summary:
      'Inference over a file or a query to an output file, chunked and resumable; its chunks run as batch-chunk jobs on every worker.',
  },
  'batch-chunk': {
    payload: batchChunkPayloadSchema,
    cpuHeavy: false,
    summary: "One chunk of a batch-infer job: writes the chunk's part file, once.",
  },
  feedback: {
    payload: FeedbackPayloadSchema,
    check: (payload: FeedbackPayload, where: string) => checkFeedbackPayload(payload, where),
    // Reading and joining wait on the disk and the store; the service does little per row.
    cpuHeavy: false,
    summary:
      'Labels for logged requests from a large JSON Lines or CSV file ({requestId, label} rows), joined with the inference log in chunks as POST /api/v1/feedback joins them; every rejected row reported with its line.',
  },
  'infer-async': {
    payload: InferAsyncPayloadSchema,
    cpuHeavy: false,
    summary:
      'One inference request answered later (POST /v2/models/{m}/infer_async), run by a serving replica at background priority.',
  },
  callback: {
    payload: CallbackPayloadSchema,
    cpuHeavy: false,
    summary: "Delivers a finished job's result to its callback URL (an HMAC-signed POST, retried).",
  },
  tune: {
    payload: TunePayloadSchema,
    check: (payload: z.output<typeof TunePayloadSchema>, where: string) => checkTunePayload(payload, where),
    cpuHeavy: false,
    coordinates: true,
    summary:
      'A hyperparameter search (a tuning spec with its training spec inline): coordinates its trials as child jobs and registers the best; the experiment takes the job id.',
  },
  trial: {
    payload: TrialPayloadSchema,
    cpuHeavy: true,
    summary: "One trial of a search: a tracked training run with the searcher's parameters, stopped early by ASHA.",
  },
  pipeline: {
    payload: PipelinePayloadSchema,
    check: (payload: z.output<typeof PipelinePayloadSchema>, where: string) =>
      void parsePipelineSpec(payload.spec, `${where}.spec`),
    cpuHeavy: false,
    coordinates: true,
    summary:
      'One run of a retraining pipeline: ingest, train and evaluate as child jobs, gate on the production version, register the candidate, canary, promote; each step recorded on the run.',
  },
  noop: {
    payload: NoopPayloadSchema,
    cpuHeavy: false,
    summary: 'Does nothing, for a while or failing if asked: for benchmarks and tests.',
  },
} as const satisfies Readonly<Record<string, JobKind>>;

/** The name of a declared kind. */
export type JobKindName = keyof typeof JOB_KINDS;

/** Every declared kind's name, in the table's order. */
export const JOB_KIND_NAMES = Object.freeze(Object.keys(JOB_KINDS) as JobKindName[]);

/** The payload of kind `K` after validation. */
export type JobPayload<K extends JobKindName> = z.output<(typeof JOB_KINDS)[K]['payload']>;

/** Whether `name` is a declared kind. */
export function isJobKind(name: string): name is JobKindName {
  return Object.hasOwn(JOB_KINDS, name);
}
