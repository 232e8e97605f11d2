/**
 * A retraining pipeline as users declare it (YAML or JSON; strict, like the training spec): where
 * the newest data is, how to train on it, what the candidate must beat and by how much, and how
 * it reaches traffic. Every mistake is refused at creation with the path of the bad field.
 *
 * ```yaml
 * name: churn-retrain
 * schedule: "0 3 * * *"              # cron (UTC); optional
 * ingest:
 *   newest: { dir: incoming, pattern: "churn-*.csv" }   # the newest matching file becomes the data
 * train: train.yaml                  # a training spec (a path, or inline); its register.model is the model
 * evaluate:
 *   data: { source: { format: csv, path: holdout.csv }, label: churned }
 *   metric: roc_auc                  # as runs record it; higher is better unless it is an error
 *   margin: 0.01                     # the candidate must beat production by this much
 * deploy:
 *   deployment: churn                # canary on it; promotion moves the alias it follows
 *   canary: { steps: [10, 50, 100], stepSeconds: 60 }
 * ```
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import { StratumError } from '../errors/index.ts';
import { AliasNameSchema, ResourceNameSchema } from '../registry/names.ts';
import { CanaryOverridesSchema } from '../registry/deployment-spec.ts';
import { parseTrainSpec, TrainSpecSchema } from '../train/run/train-spec.ts';

/** Metrics where lower is better; every other recorded metric is better higher. */
const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['log_loss', 'rmse', 'mae']);

/** Which way a metric improves. */
export function metricMode(metric: string): 'max' | 'min' {
  return LOWER_IS_BETTER.has(metric) ? 'min' : 'max';
}

const CronSchema = z.string().superRefine((pattern, ctx) => {
  try {
    new Cron(pattern, { paused: true, timezone: 'UTC' });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a cron expression: ${(error as Error).message}` });
  }
});

/** A file name pattern: `*` any run of characters, `?` one; no folders. */
const PatternSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^/\\]+$/, 'is a file name pattern ("*" and "?" as wildcards), without folders');

const IngestSchema = z.strictObject({
  /** The newest file (by modification time) matching `pattern` in `dir` replaces the training data's path. */
  newest: z.strictObject({ dir: z.string().min(1), pattern: PatternSchema }).optional(),
});

const EvaluateSchema = z.strictObject({
  /** The held-out set both versions are scored on (the `data` of a training spec). */
  data: TrainSpecSchema.shape.data,
  /** The metric compared, named as runs record it (`roc_auc`, `accuracy`, `rmse`…). */
  metric: z.string().min(1).max(64),
  /** Better is higher or lower. @default lower for log_loss, rmse and mae, else higher */
  mode: z.enum(['max', 'min']).optional(),
  /** How much the candidate must beat production by (in the metric's units). @default 0 */
  margin: z.number().min(0).default(0),
});

const DeploySchema = z.strictObject({
  /** The deployment the candidate is canaried on. */
  deployment: ResourceNameSchema,
  /** Overrides of the deployment's canary policy for this rollout. */
  canary: CanaryOverridesSchema.optional(),
  /** Longest the canary may take before the pipeline gives up waiting (s). @default 3600 */
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
});

/** A pipeline spec as stored: the training spec inline. */
export const PipelineSpecSchema = z.strictObject({
  name: ResourceNameSchema,
  description: z.string().max(4096).optional(),
  /** When it runs by itself: a cron expression, evaluated in UTC. */
  schedule: CronSchema.optional(),
  ingest: IngestSchema.default({}),
  /** The training spec (inline); its `register.model` names the model. */
  train: TrainSpecSchema,
  evaluate: EvaluateSchema,
  /** The aliases the pipeline reads and moves. */
  aliases: z
    .strictObject({
      production: AliasNameSchema.default('production'),
      candidate: AliasNameSchema.default('candidate'),
    })
    .default({ production: 'production', candidate: 'candidate' }),
  /** Without it the pipeline ends with the candidate registered, for a person to roll out. */
  deploy: DeploySchema.optional(),
  /** Folder relative data paths (ingest, training, evaluation) are resolved against; absolute. */
  baseDir: z.string().min(1).regex(/^\//, 'must be an absolute path'),
});

/** A checked pipeline spec. */
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;
/** A pipeline spec as written. */
export type PipelineSpecInput = z.input<typeof PipelineSpecSchema>;

/**
 * Checks a pipeline spec (a parsed YAML/JSON value).
 * @throws StratumError BAD_REQUEST naming the path of every bad field (`pipeline.train.model.kind: …`).
 */
export function parsePipelineSpec(value: unknown, where = 'pipeline'): PipelineSpec {
  const parsed = PipelineSpecSchema.safeParse(value, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const spec = parsed.data;
  // The training spec's own cross-field rules (a label that is also a feature…).
  parseTrainSpec(spec.train, `${where}.train`);
  if (spec.train.register === undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: train.register: the training spec must register its model (register: { model: … }) so the candidate can be compared and rolled out`,
    );
  }
  if (spec.train.register.alias !== undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: train.register.alias: leave it out; the pipeline moves "${spec.aliases.candidate}" only when the candidate passes its gate`,
    );
  }
  if (spec.aliases.production === spec.aliases.candidate) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: aliases: production and candidate must differ`);
  }
  if (spec.ingest.newest !== undefined && !('path' in spec.train.data.source)) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: ingest.newest: the training data must be a file (format csv, jsonl, parquet or arrow) for the newest file to replace its path`,
    );
  }
  return spec;
}

/** The model a pipeline trains and rolls out. */
export function pipelineModel(spec: PipelineSpec): string {
  return (spec.train.register as { model: string }).model;
}

/** The next time a schedule fires after `after` (epoch ms), or undefined when it never does again. */
export function nextScheduled(schedule: string, after: number): number | undefined {
  const next = new Cron(schedule, { paused: true, timezone: 'UTC' }).nextRun(new Date(after));
  return next === null ? undefined : next.getTime();
}
