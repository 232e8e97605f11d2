/**
 * The two ways an experiment's trials run: in this process (`stratum tune` without `--queue`, the
 * embedded default with no server), or as `trial` jobs on the queue that any worker takes — with
 * the tune job as their parent and `<experiment>:trial:<n>` as their idempotency key, so a
 * coordinator that rejoins a trial gets the job already queued instead of a second one.
 */
import { StratumError } from '../../errors/index.ts';
import { FINISHED_STATES, type JobQueue, type JobRecord } from '../../queue/job-queue.ts';
import type { ExperimentRecord, TrialRecord } from '../../store/metadata-store.ts';
import type { TrainingEvent } from '../../train/run/run-training.ts';
import { runTrial, type TrialContext } from './run-trial.ts';
import { isCancel, type TrialLauncher } from './run-experiment.ts';
import type { TrialPayload } from './tune-payloads.ts';

/**
 * Runs trials here. The trainers are synchronous, so trials in one process take turns on its
 * thread whatever `maxConcurrentTrials` says; parallel trials need workers (`--queue`).
 */
export function inProcessLauncher(args: {
  experimentId: string;
  context: TrialContext;
  /** Told of every training event of every trial (a live table shows the step). */
  onEvent?: (number: number, event: TrainingEvent) => void;
}): TrialLauncher {
  const { experimentId, context, onEvent } = args;
  let experiment: ExperimentRecord | undefined;
  return {
    launch: async (trial) => {
      experiment ??= await context.store.getExperiment(experimentId);
      const trialContext: TrialContext =
        onEvent === undefined
          ? context
          : {
              ...context,
              onEvent: (event) => {
                context.onEvent?.(event);
                onEvent(trial.number, event);
              },
            };
      // runTrial records a failure on the trial itself; the coordinator only needs to know it ended.
      await runTrial({ experiment, number: trial.number, context: trialContext }).catch(() => undefined);
    },
  };
}

/** The idempotency key of trial `number` of an experiment. */
export function trialJobKey(experimentId: string, number: number): string {
  return `${experimentId}:trial:${number}`;
}

/** Options of {@link queueLauncher}. */
export interface QueueLauncherOptions {
  readonly queue: Pick<JobQueue, 'submit' | 'get' | 'onEvent' | 'cancel'>;
  readonly experimentId: string;
  /** Folder the trials resolve relative data paths against. */
  readonly baseDir: string;
  /** The tune job, parent of every trial job. */
  readonly parentId?: string;
  readonly by: string;
  /** Attempts per trial job. @default 2 */
  readonly attempts?: number;
  /** Aborted as a cancel, cancels the trial jobs still queued or running (the tune job was cancelled). */
  readonly signal?: AbortSignal;
}

/** Submits each trial as a `trial` job and resolves when the job has finished. */
export function queueLauncher(options: QueueLauncherOptions): TrialLauncher {
  const { queue, experimentId } = options;
  return {
    launch: async (trial: TrialRecord) => {
      const payload: TrialPayload = { experiment: experimentId, number: trial.number, baseDir: options.baseDir };
      const job = await queue.submit({
        kind: 'trial',
        payload,
        idempotencyKey: trialJobKey(experimentId, trial.number),
        attempts: options.attempts ?? 2,
        by: options.by,
        ...(options.parentId !== undefined && { parentId: options.parentId }),
      });
      // Only a cancel of the tune job cancels its trials: on a shutdown or a lost lock they run on
      // for the coordinator that takes the job next.
      const cancel = (): void => {
        if (isCancel(options.signal?.reason)) void queue.cancel(job.id).catch(() => undefined);
      };
      if (options.signal?.aborted === true) cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      const finished = await jobFinished(queue, job.id).finally(() =>
        options.signal?.removeEventListener('abort', cancel),
      );
      if (finished.state !== 'completed') {
        throw new StratumError(
          'INTERNAL',
          `trial job ${job.id} ended ${finished.state}: ${finished.error?.message ?? ''}`,
        );
      }
    },
  };
}

/** Resolves with the job once it is in a finished state (events first, the record as the check). */
export function jobFinished(queue: Pick<JobQueue, 'get' | 'onEvent'>, id: string): Promise<JobRecord> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (): void => {
      queue.get(id).then(
        (record) => {
          if (done || !FINISHED_STATES.includes(record.state)) return;
          done = true;
          unsubscribe();
          resolve(record);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          unsubscribe();
          reject(error as Error);
        },
      );
    };
    const unsubscribe = queue.onEvent((event) => {
      if (event.jobId !== id) return;
      if (event.type === 'completed' || event.type === 'cancelled' || (event.type === 'failed' && !event.willRetry)) {
        check();
      }
    });
    check();
  });
}
