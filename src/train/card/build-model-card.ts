/**
 * Assembles a version's model card at read time from what the registry already holds: the version
 * (signature, metrics, lineage), the run that trained it, the dataset version's profile, and the
 * run's `card.json` (fairness, importance, privacy, intended use). Nothing is stored twice, and a
 * version pushed without a run still has a card, with the sections it cannot have left out.
 */
import { DatasetProfileSchema } from '../../data/profile/dataset-profile.ts';
import { StratumError } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import type { DatasetVersionRecord, RunRecord } from '../../store/metadata-store.ts';
import { CARD_EVIDENCE_FORMAT, type CardEvidence } from './card-evidence.ts';
import type { ModelCard } from '../../registry/model-card.ts';

/** The registry reads a card needs. */
export type CardSources = Pick<Registry, 'getVersion' | 'getRun' | 'getDatasetVersion' | 'readArtifact'>;

/**
 * The card of `model` version `version`.
 *
 * @throws StratumError MODEL_NOT_FOUND / VERSION_NOT_FOUND naming the model or version.
 */
export async function buildModelCard(args: {
  readonly registry: CardSources;
  readonly model: string;
  readonly version: number;
}): Promise<ModelCard> {
  const { registry } = args;
  const version = await registry.getVersion(args.model, args.version);
  const notes: string[] = [];
  const runId = version.lineage.runId;
  const run = runId === undefined ? undefined : await optional(registry.getRun(runId));
  if (runId === undefined) notes.push('no training run is recorded for this version (pushed as an ONNX file)');
  else if (run === undefined) notes.push(`the training run ${runId} is no longer in the store`);
  const evidence = run === undefined ? undefined : await readEvidence(registry, run, notes);
  const datasetVersion = version.lineage.datasetVersion ?? run?.datasetVersion;
  const dataset = datasetVersion === undefined ? undefined : await optional(registry.getDatasetVersion(datasetVersion));
  if (evidence !== undefined && evidence.fairness.length === 0) {
    notes.push('no sensitive column was declared (card.sensitive in the training spec): no fairness report');
  }
  const modelParams = (run?.params as { model?: { params?: Record<string, unknown> } } | undefined)?.model?.params;
  return {
    format: 'stratum.model-card/v1',
    model: version.model,
    version: version.version,
    description: version.description,
    status: version.status,
    tags: [...version.tags],
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    artifactDigest: version.artifactDigest,
    signature: {
      inputs: version.signature.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
      outputs: version.signature.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    },
    metrics: { ...version.metrics },
    ...(evidence?.intendedUse !== undefined && { intendedUse: evidence.intendedUse }),
    ...(evidence?.limitations !== undefined && { limitations: evidence.limitations }),
    ...(run !== undefined && { training: trainingSection(run, evidence, modelParams) }),
    ...(dataset !== undefined && { data: dataSection(dataset) }),
    fairness: evidence === undefined ? [] : [...evidence.fairness],
    ...(evidence?.importance !== undefined && { importance: evidence.importance }),
    ...(evidence?.shapImportance !== undefined && { shapImportance: evidence.shapImportance }),
    ...(evidence?.privacy !== undefined && { privacy: evidence.privacy }),
    notes,
  };
}

function trainingSection(
  run: RunRecord,
  evidence: CardEvidence | undefined,
  params: Record<string, unknown> | undefined,
): NonNullable<ModelCard['training']> {
  return {
    runId: run.id,
    runName: run.name,
    startedAt: run.startedAt,
    ...(run.finishedAt !== undefined && { finishedAt: run.finishedAt }),
    ...(run.codeVersion !== undefined && { codeVersion: run.codeVersion }),
    ...(params !== undefined && { params }),
    ...(evidence !== undefined && {
      modelKind: evidence.modelKind,
      task: evidence.task,
      label: evidence.label,
      classes: [...evidence.classes],
      split: evidence.split,
      inputs: [...evidence.inputs],
    }),
  };
}

/** The dataset version with a per-column summary of its profile (sketch states left out). */
function dataSection(dataset: DatasetVersionRecord): NonNullable<ModelCard['data']> {
  const profile = DatasetProfileSchema.safeParse(dataset.profile);
  const columns = profile.success
    ? profile.data.columns.map((column) => ({
        name: column.name,
        kind: column.kind,
        count: column.count,
        missing: column.missing,
        ...(column.numeric !== null && {
          min: column.numeric.min,
          max: column.numeric.max,
          mean: column.numeric.mean,
          std: column.numeric.std,
        }),
        ...(column.categorical !== null && {
          distinct: column.categorical.distinct,
          top: column.categorical.top.slice(0, 5),
        }),
      }))
    : [];
  return {
    datasetVersion: dataset.version,
    name: dataset.name,
    source: dataset.source,
    rows: dataset.numRows,
    columns,
  };
}

async function readEvidence(registry: CardSources, run: RunRecord, notes: string[]): Promise<CardEvidence | undefined> {
  const artifact = run.artifacts.find((a) => a.name === 'card.json');
  if (artifact === undefined) {
    notes.push(`run ${run.id} recorded no card.json (trained before model cards): no fairness, importance or privacy`);
    return undefined;
  }
  const bytes = await registry.readArtifact(artifact.digest);
  const evidence = JSON.parse(new TextDecoder().decode(bytes)) as CardEvidence;
  if (evidence.format !== CARD_EVIDENCE_FORMAT) {
    notes.push(`run ${run.id}'s card.json has an unknown format ${JSON.stringify(evidence.format)}`);
    return undefined;
  }
  return evidence;
}

/** The value, or undefined when the record is gone (NOT_FOUND); other errors propagate. */
async function optional<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof StratumError && (error.code === 'NOT_FOUND' || error.code.endsWith('_NOT_FOUND'))) {
      return undefined;
    }
    throw error;
  }
}
