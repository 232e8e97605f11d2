/**
 * The tuning spec `stratum tune` reads (YAML or JSON): a training spec (inline, or a path relative
 * to the tuning spec), the search space over its model's parameters, the searcher, the trial
 * budget, the metric that ranks trials, an optional ASHA scheduler, and where to register the best
 * model. Strict everywhere: a typo, an unknown parameter or a range the trainer would refuse is a
 * BAD_REQUEST naming its path before any trial runs.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { readYamlFile } from '../../config/read-yaml-file.ts';
import { StratumError } from '../../errors/index.ts';
import { formatIssues, specErrorMap } from '../../errors/format-issues.ts';
import { AliasNameSchema, ResourceNameSchema } from '../../registry/names.ts';
import { parseTrainSpec, type TrainSpec } from '../../train/run/train-spec.ts';
import { checkSearchSpace, resourceOf, resourcePath, SearchSpaceSchema } from './search-space.ts';

const SearcherSchema = z.strictObject({
  type: z.enum(['random', 'grid', 'tpe']),
  /** Seed of every random choice: the same seed and results give the same points. */
  seed: z.number().int().default(0),
  /** Grid: points per continuous (uniform, loguniform) parameter, ends included. */
  points: z.number().int().min(2).max(100).default(3),
  /** TPE: trials drawn at random before the model is used (Optuna's n_startup_trials). */
  startupTrials: z.number().int().min(1).max(1000).default(10),
  /** TPE: candidates drawn from l(x) per parameter (Optuna's n_ei_candidates). */
  candidates: z.number().int().min(1).max(10_000).default(24),
});

/** The searcher settings. */
export type SearcherSpec = z.infer<typeof SearcherSchema>;

const AshaSchema = z.strictObject({
  type: z.literal('asha'),
  /** The first rung's resource (trees or epochs). */
  gracePeriod: z.number().int().min(1).default(1),
  /** η: a trial goes on past a rung only in the top 1/η there. */
  reductionFactor: z.number().min(2).max(100).default(4),
  /** A trial's full budget. @default the training spec's numTrees or epochs */
  maxResource: z.number().int().min(2).max(100_000).optional(),
});

const RegisterSchema = z.strictObject({
  model: ResourceNameSchema,
  alias: AliasNameSchema.optional(),
  description: z.string().max(4096).optional(),
});

const TuneSpecShape = z.strictObject({
  /** Experiment name. @default the training spec's name + `-tune` */
  name: ResourceNameSchema.optional(),
  /** A training spec, inline or the path of one (relative to the tuning spec). */
  train: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  space: SearchSpaceSchema,
  searcher: z
    .union([z.enum(['random', 'grid', 'tpe']).transform((type) => ({ type })), z.record(z.string(), z.unknown())])
    .pipe(SearcherSchema)
    .default({ type: 'random', seed: 0, points: 3, startupTrials: 10, candidates: 24 }),
  trials: z.number().int().min(1).max(10_000).default(10),
  maxConcurrentTrials: z.number().int().min(1).max(256).default(1),
  /** The metric on each trial's held-out split that ranks trials. @default accuracy, or rmse for regression */
  metric: z.string().min(1).optional(),
  mode: z.enum(['max', 'min']).optional(),
  scheduler: z.union([z.literal('none'), AshaSchema]).default('none'),
  register: RegisterSchema.optional(),
});

/** An ASHA scheduler, resolved. */
export interface AshaSpec {
  readonly type: 'asha';
  readonly gracePeriod: number;
  readonly reductionFactor: number;
  readonly maxResource: number;
}

/** A parsed tuning spec: the training spec parsed and inline, metric, mode and scheduler resolved. */
export interface TuneSpec extends Omit<
  z.infer<typeof TuneSpecShape>,
  'train' | 'name' | 'metric' | 'mode' | 'scheduler'
> {
  readonly name: string;
  readonly train: TrainSpec;
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly scheduler: AshaSpec | undefined;
}

const CLASSIFIER_METRICS = [
  'accuracy',
  'balanced_accuracy',
  'log_loss',
  'f1_macro',
  'precision_macro',
  'recall_macro',
  'roc_auc',
  'pr_auc',
];
const REGRESSOR_METRICS = ['rmse', 'mae', 'r2'];
const LOWER_IS_BETTER = new Set(['log_loss', 'rmse', 'mae']);

function invalid(where: string, message: string, path?: string): StratumError {
  return new StratumError(
    'BAD_REQUEST',
    `invalid ${where}: ${message}`,
    path === undefined ? {} : { details: { path } },
  );
}

/** Options of {@link parseTuneSpec}. */
export interface ParseTuneSpecOptions {
  /** Named in messages. @default 'tuning spec' */
  readonly where?: string;
  /** Folder a `train:` path is resolved against. @default the working directory */
  readonly baseDir?: string;
}

/**
 * Validates a tuning spec, reading its training spec when `train` is a path.
 *
 * @throws StratumError BAD_REQUEST listing the issues with their paths (`space.model.params.maxDepth: …`).
 */
export async function parseTuneSpec(input: unknown, options: ParseTuneSpecOptions = {}): Promise<TuneSpec> {
  const where = options.where ?? 'tuning spec';
  const raw = parseShape(input, where);
  const train =
    typeof raw.train === 'string'
      ? await readTrainSpecFile(resolve(options.baseDir ?? process.cwd(), raw.train))
      : parseTrainSpec(raw.train, `${where}: train`);
  return resolveTuneSpec({ raw, train, where });
}

/**
 * Validates a tuning spec whose training spec is inline (what a `tune` job carries), synchronously.
 *
 * @throws StratumError BAD_REQUEST as {@link parseTuneSpec}, and when `train` is a path.
 */
export function parseInlineTuneSpec(input: unknown, where = 'tuning spec'): TuneSpec {
  const raw = parseShape(input, where);
  if (typeof raw.train === 'string') {
    throw invalid(where, 'train: must be the training spec itself here, not a path', 'train');
  }
  return resolveTuneSpec({ raw, train: parseTrainSpec(raw.train, `${where}: train`), where });
}

function parseShape(input: unknown, where: string): z.infer<typeof TuneSpecShape> {
  const parsed = TuneSpecShape.safeParse(input, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

function resolveTuneSpec(args: { raw: z.infer<typeof TuneSpecShape>; train: TrainSpec; where: string }): TuneSpec {
  const { raw, train, where } = args;
  try {
    checkSearchSpace(raw.space, train.model);
  } catch (error) {
    if (error instanceof StratumError) {
      const { path } = (error.details ?? {}) as { path?: string };
      throw invalid(where, error.message.replace(/^invalid tuning spec: /, ''), path);
    }
    throw error;
  }
  const objective = train.model.objective;
  const metrics = objective === 'regression' ? REGRESSOR_METRICS : CLASSIFIER_METRICS;
  const metric = raw.metric ?? (objective === 'regression' ? 'rmse' : 'accuracy');
  if (!metrics.includes(metric)) {
    throw invalid(where, `metric: a ${objective} run records ${metrics.join(', ')}; got "${metric}"`, 'metric');
  }
  const scheduler = raw.scheduler === 'none' ? undefined : resolveAsha(raw.scheduler, train, where);
  if (scheduler !== undefined && raw.space[resourcePath(train.model)] !== undefined) {
    throw invalid(
      where,
      `space.${resourcePath(train.model)}: the ASHA scheduler owns the resource parameter (it stops trials early); set scheduler.maxResource instead`,
      `space.${resourcePath(train.model)}`,
    );
  }
  return {
    ...raw,
    name: raw.name ?? `${train.name}-tune`.slice(0, 128),
    train: withoutRegister(train),
    metric,
    mode: raw.mode ?? (LOWER_IS_BETTER.has(metric) ? 'min' : 'max'),
    scheduler,
  };
}

function resolveAsha(asha: z.infer<typeof AshaSchema>, train: TrainSpec, where: string): AshaSpec {
  const maxResource = asha.maxResource ?? resourceOf(train.model);
  if (asha.gracePeriod >= maxResource) {
    throw invalid(
      where,
      `scheduler.gracePeriod: ${asha.gracePeriod} must be below maxResource (${maxResource}), or no trial is ever stopped`,
      'scheduler.gracePeriod',
    );
  }
  return { type: 'asha', gracePeriod: asha.gracePeriod, reductionFactor: asha.reductionFactor, maxResource };
}

/** Trials never register: only the experiment's best does, under the tuning spec's `register`. */
function withoutRegister(train: TrainSpec): TrainSpec {
  return Object.fromEntries(Object.entries(train).filter(([key]) => key !== 'register')) as TrainSpec;
}

async function readTrainSpecFile(path: string): Promise<TrainSpec> {
  const raw = await readYamlFile(path, 'training spec');
  return parseTrainSpec(raw, `training spec ${path}`);
}

/** Reads and validates a tuning spec file; a `train:` path is relative to the file. */
export async function readTuneSpec(path: string): Promise<TuneSpec> {
  const raw = await readYamlFile(path, 'tuning spec');
  return parseTuneSpec(raw, { where: `tuning spec ${path}`, baseDir: dirname(path) });
}
