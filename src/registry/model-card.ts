/**
 * The model card of a registered version, as `GET /api/v1/models/{m}/versions/{v}/card` answers
 * it and `stratum card` renders it: the schema is the type, and the OpenAPI document shows it.
 * Sections a version cannot have (a version pushed without a training run has no data, fairness
 * or importance) are absent, and `notes` says why.
 */
import { z } from 'zod';

const TensorSchema = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) });

const GroupSchema = z.object({
  group: z.string(),
  count: z.number(),
  selectionRate: z.number().optional(),
  accuracy: z.number().optional(),
  truePositiveRate: z.number().optional(),
  falsePositiveRate: z.number().optional(),
  rmse: z.number().optional(),
  mae: z.number().optional(),
});

/** Fairness for one sensitive column (Fairlearn's definitions, on the held-out split). */
export const FairnessSchema = z.object({
  column: z.string(),
  task: z.enum(['binary', 'multiclass', 'regression']),
  groups: z.array(GroupSchema).readonly(),
  demographicParityDifference: z.number().optional(),
  demographicParityRatio: z.number().optional(),
  equalizedOddsDifference: z.number().optional(),
  accuracyDifference: z.number().optional(),
  rmseDifference: z.number().optional(),
  maeDifference: z.number().optional(),
});

/** Permutation importance per raw input column, most important first. */
export const ImportanceSchema = z.object({
  method: z.literal('permutation'),
  metric: z.enum(['accuracy', 'r2']),
  repeats: z.number(),
  seed: z.number(),
  rows: z.number(),
  baselineScore: z.number(),
  features: z
    .array(
      z.object({
        feature: z.string(),
        importanceMean: z.number(),
        importanceStd: z.number(),
        importances: z.array(z.number()).readonly(),
      }),
    )
    .readonly(),
});

/** Mean |SHAP| per raw input column, by the exact explainer of the model. */
export const ShapImportanceSchema = z.object({
  method: z.enum(['tree_path_dependent', 'linear_interventional']),
  /** What the values add up to: `value`, `log_odds` or `logits`. */
  explained: z.enum(['value', 'log_odds', 'logits']),
  rows: z.number(),
  features: z.array(z.object({ feature: z.string(), meanAbsShap: z.number() })).readonly(),
});

/** What DP-SGD training spent. */
export const PrivacySchema = z.object({
  mechanism: z.literal('dp-sgd'),
  sampling: z.literal('poisson'),
  accountant: z.literal('rdp'),
  noiseMultiplier: z.number(),
  clipNorm: z.number(),
  samplingRate: z.number(),
  steps: z.number(),
  epsilon: z.number(),
  delta: z.number(),
  order: z.number(),
});

/** A column of the training data, summarised from the dataset version's profile. */
export const CardColumnSchema = z.object({
  name: z.string(),
  kind: z.string(),
  count: z.number(),
  missing: z.number(),
  min: z.number().nullable().optional(),
  max: z.number().nullable().optional(),
  mean: z.number().nullable().optional(),
  std: z.number().nullable().optional(),
  distinct: z.number().optional(),
  top: z.array(z.object({ value: z.string(), count: z.number() })).optional(),
});

/** A model card. */
export const ModelCardSchema = z.object({
  format: z.literal('stratum.model-card/v1'),
  model: z.string(),
  version: z.number(),
  description: z.string(),
  status: z.enum(['ready', 'archived']),
  tags: z.array(z.string()),
  createdAt: z.number(),
  createdBy: z.string(),
  artifactDigest: z.string(),
  signature: z.object({ inputs: z.array(TensorSchema), outputs: z.array(TensorSchema) }),
  /** Summary metrics on the held-out split (as registered). */
  metrics: z.record(z.string(), z.number()),
  intendedUse: z.string().optional(),
  limitations: z.string().optional(),
  training: z
    .object({
      runId: z.string(),
      runName: z.string(),
      startedAt: z.number(),
      finishedAt: z.number().optional(),
      codeVersion: z.string().optional(),
      modelKind: z.string().optional(),
      task: z.string().optional(),
      label: z.string().optional(),
      classes: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
      /** The model's hyper-parameters as trained. */
      params: z.record(z.string(), z.unknown()).optional(),
      split: z.object({ trainRows: z.number(), validationRows: z.number(), seed: z.number() }).optional(),
      /** The raw columns the model reads. */
      inputs: z.array(z.string()).optional(),
    })
    .optional(),
  data: z
    .object({
      datasetVersion: z.string(),
      name: z.string(),
      source: z.string(),
      rows: z.number(),
      columns: z.array(CardColumnSchema),
    })
    .optional(),
  fairness: z.array(FairnessSchema),
  importance: ImportanceSchema.optional(),
  /** Mean |SHAP| per raw input column on held-out rows (GBDT and linear models, trained since it exists). */
  shapImportance: ShapImportanceSchema.optional(),
  privacy: PrivacySchema.optional(),
  /** Why sections are absent. */
  notes: z.array(z.string()),
});

/** A model card. */
export type ModelCard = z.infer<typeof ModelCardSchema>;
