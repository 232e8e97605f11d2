/**
 * A `trial` job run where the worker runs CPU-heavy kinds: in a thread of its own, which opens its
 * own connections to the stores from the settings it is handed (a thread shares no objects with
 * the worker). The worker's event loop stays free to renew the job's lock while the trial trains.
 */
import type { MasterKeySettings } from '../../artifacts/master-keys.ts';
import { openArtifactStore } from '../../artifacts/open-artifact-store.ts';
import type { Logger } from '../../logging/logger.ts';
import { openMetadataStore } from '../../store/open-metadata-store.ts';
import { runTrial, type TrialOutcome } from './run-trial.ts';
import { TrialPayloadSchema } from './tune-payloads.ts';

/** What the thread is handed. */
export interface TrialThreadInput {
  readonly payload: unknown;
  /** Who submitted the job: the author of the run. */
  readonly by: string;
  readonly stores: {
    readonly databaseUrl: string;
    readonly artifactsUrl: string;
    readonly registryPollMs?: number;
    readonly artifactEncryption?: MasterKeySettings | undefined;
  };
}

/** Runs the trial the payload names; the stores are opened and closed here. */
export async function trialInThread(
  input: TrialThreadInput,
  context: {
    logger?: Logger;
    /** Told the run's id once it exists (a stopped thread leaves it for the worker to finish). */
    onRun?: (runId: string) => void;
  } = {},
): Promise<TrialOutcome> {
  const payload = TrialPayloadSchema.parse(input.payload);
  const { stores } = input;
  const store = await openMetadataStore({
    url: stores.databaseUrl,
    ...(stores.registryPollMs !== undefined && { pollMs: stores.registryPollMs }),
    ...(context.logger !== undefined && { logger: context.logger }),
  });
  const artifacts = await openArtifactStore({ url: stores.artifactsUrl, encryption: stores.artifactEncryption }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  try {
    const experiment = await store.getExperiment(payload.experiment);
    return await runTrial({
      experiment,
      number: payload.number,
      context: {
        store,
        artifacts,
        by: input.by,
        baseDir: payload.baseDir,
        onEvent: (event) => {
          if (event.phase === 'run') context.onRun?.(event.runId);
        },
      },
    });
  } finally {
    await Promise.allSettled([artifacts.close(), store.close()]);
  }
}
