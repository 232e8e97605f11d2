/**
 * An evaluation recorded as a run: params the model, version (and alias) and the data spec, the
 * data's content version, the summary metrics with the rows read and not scored, and the full
 * report as the artifact `evaluation.json`. Runs are named `evaluate.<model>`. A retried job whose
 * earlier attempt already recorded its run (found by the `stratum.job` param) records no second one.
 */
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import type { Logger } from '../../logging/logger.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { JOB_PARAM } from '../../train/run/run-training.ts';
import { runsOfJob } from '../train-once.ts';
import type { EvaluatePayload, EvaluationResult } from './evaluate-version.ts';

/** The name of the runs that record evaluations of `model`. */
export function evaluationRunName(model: string): string {
  return `evaluate.${model}`.slice(0, 128);
}

/** Options of {@link recordEvaluation}. */
export interface RecordEvaluationOptions {
  readonly store: Pick<MetadataStore, 'createRun' | 'finishRun' | 'listRuns'>;
  readonly artifacts: Pick<ArtifactStore, 'put'>;
  readonly payload: Pick<EvaluatePayload, 'alias' | 'data'>;
  readonly result: EvaluationResult;
  /** The job that evaluated, when a job did. @default none */
  readonly jobId?: string;
  readonly by: string;
  readonly logger: Logger;
}

/** Records the evaluation as a succeeded run (or finds the one an earlier attempt of the job recorded); returns its id. */
export async function recordEvaluation(options: RecordEvaluationOptions): Promise<string> {
  const { store, payload, result, jobId } = options;
  const name = evaluationRunName(result.model);
  if (jobId !== undefined) {
    const prior = (await runsOfJob(store, { name, jobId })).find((run) => run.status === 'succeeded');
    if (prior !== undefined) {
      options.logger.info({ run: prior.id }, 'an earlier attempt already recorded the evaluation');
      return prior.id;
    }
  }
  const run = await store.createRun({
    name,
    params: {
      model: result.model,
      version: result.version,
      ...(payload.alias !== undefined && { alias: payload.alias }),
      data: payload.data,
      ...(jobId !== undefined && { [JOB_PARAM]: jobId }),
    },
    datasetVersion: result.data.version,
    by: options.by,
  });
  const report = await options.artifacts.put(new TextEncoder().encode(JSON.stringify(result.evaluation)));
  await store.finishRun({
    id: run.id,
    status: 'succeeded',
    metrics: { ...result.metrics, rows: result.data.rows, unscored_rows: result.unscored.rows },
    artifacts: [{ name: 'evaluation.json', digest: report.digest, size: report.size }],
  });
  return run.id;
}
