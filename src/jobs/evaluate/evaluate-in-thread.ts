/**
 * An `evaluate` job inside its worker thread: opens the stores, the registry and a runtime pool of
 * one thread for the model, evaluates (`evaluate-version.ts`), and records the evaluation as a run
 * (`record-evaluation.ts`) unless the payload says `record: false`.
 */
import { openArtifactStore } from '../../artifacts/open-artifact-store.ts';
import { createRegistry } from '../../registry/registry.ts';
import { createRuntimePool } from '../../runtime/runtime-pool.ts';
import { openMetadataStore } from '../../store/open-metadata-store.ts';
import type { JobProgress } from '../../queue/job-queue.ts';
import type { ThreadHandler } from '../thread-job.ts';
import { type EvaluatePayload, type EvaluationResult, evaluateVersion } from './evaluate-version.ts';
import { recordEvaluation } from './record-evaluation.ts';

/** The result of an `evaluate` job: the evaluation, and the run that records it. */
export type EvaluateJobResult = EvaluationResult & { readonly runId?: string };

/** Runs an `evaluate` job's payload in this (worker) thread. */
export const evaluateInThread: ThreadHandler = async (input, { post, logger }) => {
  const payload = input.payload as EvaluatePayload;
  const { stores } = input;
  const store = await openMetadataStore({ url: stores.databaseUrl, pollMs: stores.registryPollMs, logger });
  const runtime = createRuntimePool({ workers: 1, logger });
  try {
    const artifacts = await openArtifactStore({ url: stores.artifactsUrl, encryption: stores.artifactEncryption });
    const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: stores.bodyLimitBytes });
    const result = await evaluateVersion({
      registry,
      runtime,
      payload,
      onProgress: throttled((progress) => post({ type: 'progress', progress })),
    });
    if (payload.record === false) return result;
    const runId = await recordEvaluation({
      store,
      artifacts,
      payload,
      result,
      jobId: input.jobId,
      by: input.by,
      logger,
    });
    return { ...result, runId } satisfies EvaluateJobResult;
  } finally {
    await Promise.allSettled([runtime.close(), store.close()]);
  }
};

/** Progress is durable (one write each): at most one per this many ms, besides the last. */
const PROGRESS_EVERY_MS = 500;

function throttled(post: (progress: JobProgress) => void): (progress: JobProgress) => void {
  let last = 0;
  return (progress) => {
    const now = Date.now();
    if (progress.fraction !== 1 && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    post(progress);
  };
}
