/**
 * What a model carries so that it can be explained, in its ONNX `metadata_props` under one key,
 * written by Stratum's exporters: the trees' covers (ONNX tree ensembles have no attribute for
 * them), the training mean of each feature a linear model reads, and the raw column each encoded
 * feature comes from. The registry keeps a version's other metadata in the store but not this
 * entry (it grows with the trees); the explain path reads it from the model bytes.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { formatIssues } from '../errors/format-issues.ts';

/** The metadata key (a JSON object, {@link ExplainMetadata}). */
export const EXPLAIN_METADATA_KEY = 'stratum.explain';

const finite = z.number().refine(Number.isFinite, 'must be finite');

/** The `stratum.explain` entry. */
export const ExplainMetadataSchema = z
  .object({
    /** Per tree in ONNX tree-id order, the cover of each node id. */
    covers: z.array(z.array(z.number().min(0))).optional(),
    /** Training mean of each feature the model's linear layer reads. */
    means: z.array(finite).optional(),
    /** Name of each feature the model reads (`age_std`, `city=paris`, …). */
    features: z.array(z.string()).optional(),
    /** Raw input column of each feature, where the features are computed inside the graph. */
    columns: z.array(z.string()).optional(),
  })
  .strict();

/** What a model declares for its explanations. */
export type ExplainMetadata = z.infer<typeof ExplainMetadataSchema>;

/**
 * Parses the entry's text.
 * @throws StratumError INVALID_MODEL naming the field that is wrong.
 */
export function parseExplainMetadata(text: string): ExplainMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StratumError(
      'INVALID_MODEL',
      `metadata "${EXPLAIN_METADATA_KEY}" is not JSON: ${(error as Error).message}`,
    );
  }
  const parsed = ExplainMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw new StratumError('INVALID_MODEL', `metadata "${EXPLAIN_METADATA_KEY}": ${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The entry for a model's metadata, numbers rounded to 7 significant digits (covers only weigh
 * children against each other, and means are float32 values).
 *
 * @example
 * ```ts
 * new GraphBuilder({ metadata: { [EXPLAIN_METADATA_KEY]: explainMetadataText({ covers }) } })
 * ```
 */
export function explainMetadataText(metadata: ExplainMetadata): string {
  return JSON.stringify(metadata, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(7)) : value,
  );
}
