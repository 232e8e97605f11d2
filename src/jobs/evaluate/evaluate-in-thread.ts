/**
 * An `evaluate` job inside its worker thread: opens the stores, the registry and a runtime pool of
 * one thread for the model, evaluates (`evaluate-version.ts`), and records the evaluation as a run
 * — params the model, version and data, the data's content version, the summary metrics and the
 * full report as `evaluation.json` — unless the payload says `record: false`. A retried job whose
 * earlier attempt already recorded its run records no second one.
 */
import { openArtifactStore } from '../../artifacts/open-artifact-store.ts';
import type { Logger } from '../../logging/logger.ts';
import { createRegistry } from '../../registry/registry.ts';
import { createRuntimePool } from '../../runtime/runtime-pool.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { openMetadataStore } from '../../store/open-metadata-store.ts';
import { JOB_PARAM } from '../../train/run/run-training.ts';
import type { ThreadHandler } from '../thread-job.ts';
import { runsOfJob } from '../train-once.ts';
import { type EvaluatePayload, type EvaluationResult, evaluateVersion } from './evaluate-version.ts';

/** The result of an `evaluate` job: the evaluation, and the run that records it. */
export type EvaluateJobResult = EvaluationResult & { readonly runId?: string };

/** The name of the runs that record evaluations of `model`. */
export function evaluationRunName(model: string): string {
  return `evaluate.${model}`.slice(0, 128);
}

/** Runs an `evaluate` job's payload in this (worker) thread. */
export const evaluateInThread: ThreadHandler = async (input, { post, logger }) => {
  const payload = input.payload as EvaluatePayload;
  const { stores } = input;
  const store = await openMetadataStore({ url: stores.databaseUrl, pollMs: stores.registryPollMs, logger });
  const runtime = createRuntimePool({ workers: 1, logger });
  try {
    const artifacts = await openArtifactStore({ url: stores.artifactsUrl });
    const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: stores.bodyLimitBytes });
    const result = await evaluateVersion({
      registry,
      runtime,
      payload,
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    if (payload.record === false) return result;
    const runId = await recordRun({ store, artifacts, payload, result, jobId: input.jobId, by: input.by, logger });
    return { ...result, runId } satisfies EvaluateJobResult;
  } finally {
    await Promise.allSettled([runtime.close(), store.close()]);
  }
};

/** Records the evaluation as a succeeded run (or finds the one an earlier attempt recorded). */
async function recordRun(args: {
  store: MetadataStore;
  artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
  payload: EvaluatePayload;
  result: EvaluationResult;
  jobId: string;
  by: string;
  logger: Logger;
}): Promise<string> {
  const { store, payload, result, jobId } = args;
  const name = evaluationRunName(result.model);
  const prior = (await runsOfJob(store, { name, jobId })).find((run) => run.status === 'succeeded');
  if (prior !== undefined) {
    args.logger.info({ run: prior.id }, 'an earlier attempt already recorded the evaluation');
    return prior.id;
  }
  const run = await store.createRun({
    name,
    params: {
      model: result.model,
      version: result.version,
      ...(payload.alias !== undefined && { alias: payload.alias }),
      data: payload.data,
      [JOB_PARAM]: jobId,
    },
    datasetVersion: result.data.version,
    by: args.by,
  });
  const report = await args.artifacts.put(new TextEncoder().encode(JSON.stringify(result.evaluation)));
  await store.finishRun({
    id: run.id,
    status: 'succeeded',
    metrics: { ...result.metrics, rows: result.data.rows, unscored_rows: result.unscored.rows },
    artifacts: [{ name: 'evaluation.json', digest: report.digest, size: report.size }],
  });
  return run.id;
}
