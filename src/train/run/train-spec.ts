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
import { linearParams } from '../linear/linear-params.ts';
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
    workers,
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
  return spec;
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
