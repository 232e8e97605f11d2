/**
 * A `train` job inside its worker thread: opens the stores and the registry, returns what an
 * earlier attempt of the job already did (`train-once.ts`), or runs the spec as `stratum train`
 * would, recording the job's id on the run, and reports progress as it goes. The result names the
 * run and the registered version; the full records are a GET away.
 */
import { openArtifactStore } from '../artifacts/open-artifact-store.ts';
import { createRegistry } from '../registry/registry.ts';
import { openMetadataStore } from '../store/open-metadata-store.ts';
import type { RunRecord, VersionRecord } from '../store/metadata-store.ts';
import { runTraining, type TrainingEvent } from '../train/run/run-training.ts';
import type { JobProgress } from '../queue/job-queue.ts';
import { parseTrainSpec } from '../train/run/train-spec.ts';
import type { JobPayload } from './job-kinds.ts';
import type { ThreadHandler } from './thread-job.ts';
import { findPriorTraining } from './train-once.ts';

/** The result of a `train` job. */
export interface TrainJobResult {
  readonly runId: string;
  readonly name: string;
  readonly status: RunRecord['status'];
  readonly metrics: Readonly<Record<string, number>>;
  readonly version?: { readonly model: string; readonly version: number };
  /** True when an earlier attempt had already trained (and registered): nothing ran again. */
  readonly reused: boolean;
}

/** Progress is durable: at most one write per this many ms, besides phase changes and the last step. */
const PROGRESS_EVERY_MS = 500;

/** Runs a `train` job's payload in this (worker) thread. */
export const trainInThread: ThreadHandler = async (input, { post, logger }) => {
  const payload = input.payload as JobPayload<'train'>;
  // Checked at submission; parsed again here so that defaults are filled in whoever queued it.
  const spec = parseTrainSpec(payload.spec, `job ${input.jobId}: payload.spec`);
  const { stores } = input;
  const store = await openMetadataStore({ url: stores.databaseUrl, pollMs: stores.registryPollMs, logger });
  try {
    const artifacts = await openArtifactStore({ url: stores.artifactsUrl, encryption: stores.artifactEncryption });
    const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: stores.bodyLimitBytes });
    const prior = await findPriorTraining({ store, spec, jobId: input.jobId });
    if (prior !== undefined) {
      logger.info({ run: prior.run.id, version: prior.version?.version }, 'an earlier attempt already trained');
      return resultOf(prior.run, prior.version, true);
    }
    const result = await runTraining(spec, {
      store,
      artifacts,
      registry,
      by: input.by,
      baseDir: payload.baseDir,
      jobId: input.jobId,
      ...(payload.codeVersion !== undefined && { codeVersion: payload.codeVersion }),
      ...(payload.force !== undefined && { force: payload.force }),
      onEvent: progressPoster((message) => post(message)),
    });
    return resultOf(result.run, result.version, false);
  } finally {
    // The registry closes the store it was given; closing the store again is harmless.
    await store.close();
  }
};

function resultOf(run: RunRecord, version: VersionRecord | undefined, reused: boolean): TrainJobResult {
  return {
    runId: run.id,
    name: run.name,
    status: run.status,
    metrics: run.metrics,
    ...(version !== undefined && { version: { model: version.model, version: version.version } }),
    reused,
  };
}

/** Turns training events into job progress (throttled) and tells the main thread the run's id. */
export function progressPoster(
  post: (message: { type: 'progress'; progress: JobProgress } | { type: 'started'; runId: string }) => void,
): (event: TrainingEvent) => void {
  let last = 0;
  let lastPhase = '';
  return (event) => {
    if (event.phase === 'run') {
      post({ type: 'started', runId: event.runId });
      return;
    }
    const now = Date.now();
    const phaseChanged = event.phase !== lastPhase;
    const lastStep = event.phase === 'train' && event.step === event.total;
    if (!phaseChanged && !lastStep && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    lastPhase = event.phase;
    post({ type: 'progress', progress: trainingProgress(event) });
  };
}

/** One training event as job progress: a fraction while training, a message always, the event as data. */
export function trainingProgress(event: Exclude<TrainingEvent, { phase: 'run' }>): JobProgress {
  switch (event.phase) {
    case 'read':
      return { message: `reading data: ${event.rows.toLocaleString('en-US')} rows`, data: event };
    case 'features':
      return {
        fraction: 0,
        message: `features: ${event.numFeatures} from ${event.trainRows.toLocaleString('en-US')} training rows (${event.validationRows.toLocaleString('en-US')} held out)`,
        data: event,
      };
    case 'train': {
      const validation = event.validationLoss === undefined ? '' : `  val ${event.validationLoss.toFixed(4)}`;
      return {
        fraction: event.total === 0 ? 1 : event.step / event.total,
        message: `training ${event.step}/${event.total}  loss ${event.trainLoss.toFixed(4)}${validation}`,
        data: event,
      };
    }
    case 'evaluate':
      return { fraction: 1, message: 'evaluating on the held-out split', data: event };
    case 'register':
      return { fraction: 1, message: `registered ${event.model} version ${event.version}`, data: event };
  }
}
