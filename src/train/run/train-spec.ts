/**
 * The training spec `stratum train` reads (YAML or JSON): where the data is, which column is the
 * label, how much is held out, the feature pipeline, the model and its hyper-parameters, and where
 * to register the result. Strict everywhere, so a typo is an error naming its path before any data
 * is read.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { formatIssues, specErrorMap } from '../../errors/format-issues.ts';
import { FeatureSpecSchema, isStringTransform, parseFeatureSpec } from '../../features/feature-spec.ts';
import { AliasNameSchema, ResourceNameSchema } from '../../registry/names.ts';
import { trainingObjective } from '../common/objective.ts';
import { workers } from '../common/param-schema.ts';
import { gbdtParams } from '../gbdt/gbdt-params.ts';
import { linearParams, linearWorkers } from '../linear/linear-params.ts';
import { mlpParams } from '../mlp/mlp-params.ts';

const path = z.string().min(1);
const columnTypes = z.record(z.string().min(1), z.enum(['number', 'string', 'boolean']));

/** Where the rows come from. Relative paths are resolved against the working directory (as DuckDB does inside queries). */
export const DataSourceSchema = z.discriminatedUnion('format', [
  z.object({ format: z.literal('csv'), path, schema: columnTypes.optional() }).strict(),
  z.object({ format: z.literal('jsonl'), path }).strict(),
  z.object({ format: z.literal('parquet'), path, columns: z.array(z.string().min(1)).min(1).optional() }).strict(),
  z.object({ format: z.literal('arrow'), path }).strict(),
  /** DuckDB SQL, typically over files: `SELECT … FROM read_parquet('flights.parquet')`. */
  z.object({ format: z.literal('sql'), query: z.string().min(1) }).strict(),
  /** A PostgreSQL query, read with a cursor. */
  z.object({ format: z.literal('postgres'), url: z.string().min(1), query: z.string().min(1) }).strict(),
]);

const DataSchema = z
  .object({
    /** What the data is called in runs and dataset versions. @default the file name, or the run name */
    name: z.string().min(1).max(256).optional(),
    source: DataSourceSchema,
    /** The column to predict. */
    label: z.string().min(1),
    /** For binary labels that are not 0/1: the value that counts as positive (class 1). */
    positive: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** Read at most this many rows. */
    limit: z.number().int().min(1).optional(),
  })
  .strict();

const SplitSchema = z
  .object({
    /** Fraction of rows held out for evaluation and early stopping. */
    validation: z.number().gt(0).lt(1).default(0.2),
    /** Seed of the split. */
    seed: z.number().int().default(0),
  })
  .strict();

/** Each model kind with its trainer's parameter schema; a model's omitted parameters take their defaults. */
const ModelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('mlp'), objective: trainingObjective, workers, params: mlpParams.prefault({}) }),
  z.strictObject({
    kind: z.literal('linear'),
    objective: trainingObjective,
    workers: linearWorkers,
    params: linearParams.prefault({}),
  }),
  z.strictObject({ kind: z.literal('gbdt'), objective: trainingObjective, workers, params: gbdtParams.prefault({}) }),
]);

const RegisterSchema = z
  .object({
    /** Model name in the registry. */
    model: ResourceNameSchema,
    /** Alias to point at the new version. */
    alias: AliasNameSchema.optional(),
    description: z.string().max(4096).optional(),
    tags: z.array(z.string().min(1).max(64)).max(32).optional(),
  })
  .strict();

/** How the card's permutation importance is measured. */
const ImportanceSchema = z
  .object({
    /** Shuffles per column. */
    repeats: z.number().int().min(1).max(100).default(5),
    /** Seed of the shuffles. */
    seed: z.number().int().default(0),
    /** Held-out rows scored (the first ones of the split, which is random already). */
    maxRows: z.number().int().min(2).max(1_000_000).default(5000),
  })
  .strict();

/** How the card's SHAP importance is measured (GBDT and linear models, which have exact explainers). */
const ShapSchema = z
  .object({
    /**
     * Held-out rows explained at most (the first ones of the split); a costly model explains fewer
     * (src/train/card/shap-evidence.ts bounds the work).
     */
    maxRows: z.number().int().min(1).max(100_000).default(500),
  })
  .strict();

/**
 * What the model card says beyond what the run measures: what the model is for and not for, and
 * which columns are sensitive (fairness is reported per group of each). A sensitive column is
 * read from the data; it is a model input only if a feature transform also reads it.
 */
export const CardSpecSchema = z
  .object({
    /** What the model is for, who uses it, and how. */
    intendedUse: z.string().min(1).max(8192).optional(),
    /** Where it should not be used, known weaknesses. */
    limitations: z.string().min(1).max(8192).optional(),
    /** Column(s) whose groups the fairness report compares. */
    sensitive: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(16)])
      .transform((value) => (typeof value === 'string' ? [value] : value))
      .optional(),
    /** Permutation importance settings; `false` skips it. */
    importance: z.union([z.literal(false), ImportanceSchema]).default(ImportanceSchema.parse({})),
    /** Mean |SHAP| settings; `false` skips it. */
    shap: z.union([z.literal(false), ShapSchema]).default(ShapSchema.parse({})),
  })
  .strict();

/** A whole training spec. */
export const TrainSpecSchema = z
  .object({
    /** Run name. */
    name: ResourceNameSchema,
    data: DataSchema,
    split: SplitSchema.default(SplitSchema.parse({})),
    features: FeatureSpecSchema,
    model: ModelSchema,
    /** Register the trained model as a new version (with lineage, metrics and reference profile). */
    register: RegisterSchema.optional(),
    /** The model card's declared parts: intended use, limitations, sensitive columns. */
    card: CardSpecSchema.default(CardSpecSchema.parse({})),
  })
  .strict();

/** A parsed training spec (defaults filled in). */
export type TrainSpec = z.infer<typeof TrainSpecSchema>;
/** A training spec as written by a user. */
export type TrainSpecInput = z.input<typeof TrainSpecSchema>;
/** Where the rows come from. */
export type DataSource = z.infer<typeof DataSourceSchema>;

/**
 * Validates a training spec.
 *
 * @throws StratumError BAD_REQUEST listing every issue with its path, e.g. `model.params.maxDepth: …`.
 */
export function parseTrainSpec(input: unknown, where = 'training spec'): TrainSpec {
  checkPrivacySupport(input, where);
  const parsed = TrainSpecSchema.safeParse(input, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const spec = parsed.data;
  // The feature spec has cross-field rules of its own (one type per column, ascending boundaries).
  try {
    parseFeatureSpec(spec.features);
  } catch (error) {
    if (error instanceof StratumError) {
      throw new StratumError(
        'BAD_REQUEST',
        `invalid ${where}: features: ${error.message.replace(/^invalid feature spec: /, '')}`,
      );
    }
    throw error;
  }
  if (spec.features.transforms.some((t) => t.column === spec.data.label)) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: features: the label column ${JSON.stringify(spec.data.label)} cannot also be a feature`,
    );
  }
  checkDeclaredTypes(spec, where);
  checkCard(spec, where);
  return spec;
}

/** The model kinds whose trainers take `params.privacy` (DP-SGD). */
const PRIVATE_KINDS: ReadonlySet<string> = new Set(['linear', 'mlp']);

/**
 * DP-SGD on a trainer without it is named before the schema's "unrecognized key" would be, and
 * with the reason; L-BFGS takes no mini-batches to privatise.
 */
function checkPrivacySupport(input: unknown, where: string): void {
  if (typeof input !== 'object' || input === null) return;
  const model = (input as { model?: unknown }).model;
  if (typeof model !== 'object' || model === null) return;
  const { kind, params } = model as { kind?: unknown; params?: unknown };
  if (typeof params !== 'object' || params === null || !('privacy' in params)) return;
  if (typeof kind === 'string' && !PRIVATE_KINDS.has(kind)) {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: model.params.privacy: differentially private training (DP-SGD) is available for linear and mlp models, not ${kind}`,
      { details: { path: ['model', 'params', 'privacy'] } },
    );
  }
  if (kind === 'linear' && (params as { optimizer?: unknown }).optimizer === 'lbfgs') {
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: model.params.privacy: DP-SGD needs model.params.optimizer 'adam' or 'sgd', not 'lbfgs' (full-batch steps cannot be privatised)`,
      { details: { path: ['model', 'params', 'privacy'] } },
    );
  }
}

/** A sensitive column is data, not the label. */
function checkCard(spec: TrainSpec, where: string): void {
  for (const [index, column] of (spec.card.sensitive ?? []).entries()) {
    if (column !== spec.data.label) continue;
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: card.sensitive[${index}]: the label column ${JSON.stringify(column)} cannot be a sensitive column; name the column of the groups to compare`,
      { details: { path: ['card', 'sensitive', index] } },
    );
  }
}

/** A CSV schema may not declare as text a column a numeric transform reads. */
function checkDeclaredTypes(spec: TrainSpec, where: string): void {
  const { source } = spec.data;
  if (source.format !== 'csv' || source.schema === undefined) return;
  for (const [index, transform] of spec.features.transforms.entries()) {
    if (isStringTransform(transform) || source.schema[transform.column] !== 'string') continue;
    throw new StratumError(
      'BAD_REQUEST',
      `invalid ${where}: data.source.schema.${transform.column}: declared "string", but features.transforms[${index}] (${transform.transform}) reads column ${JSON.stringify(transform.column)} as a number; declare it "number"`,
    );
  }
}
