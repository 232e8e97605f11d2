/**
 * The handlers of the `tune` and `trial` job kinds. A tune job is the coordinator: the experiment
 * takes the job's id, so when the queue recovers the job after its worker died, the handler finds
 * the experiment and resumes it from the store; its trials go to the queue as `trial` jobs, and
 * its progress carries the trial table. A trial job runs one trial wherever it is taken.
 */
import { StratumError } from '../../errors/index.ts';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import type { ActiveJob, JobHandler, JobQueue } from '../../queue/job-queue.ts';
import type { Registry } from '../../registry/registry.ts';
import type { MetadataStore, TrialRecord } from '../../store/metadata-store.ts';
import { runExperiment } from './run-experiment.ts';
import { runTrial } from './run-trial.ts';
import { queueLauncher } from './trial-launchers.ts';
import { TrialPayloadSchema, TunePayloadSchema } from './tune-payloads.ts';
import { parseInlineTuneSpec } from './tune-spec.ts';

/** What the handlers run on. */
export interface TuneJobContext {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  /** Needed by experiments that register their best model. */
  readonly registry?: Registry;
  /** Where a tune job submits its trials. */
  readonly queue: Pick<JobQueue, 'submit' | 'get' | 'onEvent' | 'cancel'>;
}

/** A trial as a tune job's progress shows it. */
export function trialRow(trial: TrialRecord): Record<string, unknown> {
  return {
    number: trial.number,
    status: trial.status,
    params: trial.params,
    ...(trial.resource !== undefined && { resource: trial.resource }),
    ...(trial.value !== undefined && { value: trial.value }),
    ...(trial.runId !== undefined && { runId: trial.runId }),
  };
}

/** The `tune` and `trial` handlers, by kind. */
export function tuneJobHandlers(context: TuneJobContext): { readonly tune: JobHandler; readonly trial: JobHandler } {
  return {
    tune: (job) => runTuneJob(job, context),
    trial: (job) => runTrialJob(job, context),
  };
}

async function runTuneJob(job: ActiveJob, context: TuneJobContext): Promise<unknown> {
  const payload = TunePayloadSchema.parse(job.record.payload);
  const spec = parseInlineTuneSpec(payload.spec, 'payload.spec');
  const { record } = job;
  const result = await runExperiment({
    id: record.id,
    spec,
    store: context.store,
    artifacts: context.artifacts,
    ...(context.registry !== undefined && { registry: context.registry }),
    launcher: queueLauncher({
      queue: context.queue,
      experimentId: record.id,
      baseDir: payload.baseDir,
      parentId: record.id,
      by: record.by,
      signal: job.signal,
    }),
    by: record.by,
    jobId: record.id,
    signal: job.signal,
    onTrials: (trials) => {
      const done = trials.filter((t) => t.status !== 'running').length;
      void job
        .progress({
          fraction: Math.min(1, done / spec.trials),
          message: `${done}/${spec.trials} trials finished`,
          data: { trials: trials.map(trialRow) },
        })
        .catch(() => undefined);
    },
  });
  const { experiment } = result;
  // A search that ended without a best trial did not do its job: the job fails with the reason
  // (and can be retried), rather than completing with nothing registered.
  if (experiment.status === 'failed') {
    throw new StratumError(
      'INTERNAL',
      `experiment ${experiment.id} failed: ${experiment.error ?? 'no reason recorded'}`,
      {
        details: { experiment: experiment.id, trials: result.trials.map(trialRow) },
      },
    );
  }
  return {
    experiment: experiment.id,
    status: experiment.status,
    ...(experiment.bestTrial !== undefined && { bestTrial: experiment.bestTrial, bestValue: experiment.bestValue }),
    ...(experiment.registered !== undefined && { registered: experiment.registered }),
    trials: result.trials.length,
  };
}

async function runTrialJob(job: ActiveJob, context: TuneJobContext): Promise<unknown> {
  const payload = TrialPayloadSchema.parse(job.record.payload);
  const experiment = await context.store.getExperiment(payload.experiment);
  return runTrial({
    experiment,
    number: payload.number,
    context: { store: context.store, artifacts: context.artifacts, by: job.record.by, baseDir: payload.baseDir },
  });
}
