/**
 * One trial: the experiment's training spec with the trial's point applied, run as a tracked run
 * (params, metrics by step, artifacts), stopped early when ASHA says so at a rung. The rung records
 * the decision reads are the store's, read when the trial starts (the trainers are synchronous, so
 * a trial cannot wait for the store mid-training; a trial sees every rung result recorded before it
 * started, which is exact when trials run one at a time and otherwise lags by at most one trial's
 * length). Its own rung values are recorded when training ends. Running a finished trial again (a
 * retried job) returns its recorded outcome and trains nothing.
 */
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { StratumError } from '../../errors/index.ts';
import type { ExperimentRecord, MetadataStore, TrialRecord } from '../../store/metadata-store.ts';
import { runTraining, type TrainingEvent } from '../../train/run/run-training.ts';
import type { TrainStep } from '../../train/run/train-model.ts';
import { parseTrainSpec, type TrainSpec } from '../../train/run/train-spec.ts';
import { ashaDecision, rungMilestones } from './asha.ts';
import { applyPoint, RESOURCE_PARAM } from './search-space.ts';
import type { TuneSpec } from './tune-spec.ts';

/** Where a trial runs. */
export interface TrialContext {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  /** Recorded as the author of the run. */
  readonly by: string;
  /** Folder relative data paths in the training spec are resolved against. */
  readonly baseDir: string;
  readonly codeVersion?: string;
  readonly onEvent?: (event: TrainingEvent) => void;
}

/** How a trial ended. */
export interface TrialOutcome {
  readonly number: number;
  readonly status: TrialRecord['status'];
  readonly runId?: string;
  readonly resource?: number;
  readonly value?: number;
}

const FINISHED: readonly TrialRecord['status'][] = ['completed', 'stopped'];

/** The training spec trial `trial` runs. */
export function trialTrainSpec(spec: TuneSpec, trial: Pick<TrialRecord, 'number' | 'params'>): TrainSpec {
  const withPoint = applyPoint(spec.train, trial.params);
  const params: Record<string, unknown> = { ...withPoint.model.params };
  if (spec.scheduler !== undefined) params[RESOURCE_PARAM[withPoint.model.kind]] = spec.scheduler.maxResource;
  const suffix = `-t${trial.number}`;
  return parseTrainSpec(
    {
      ...withPoint,
      name: `${spec.name.slice(0, 128 - suffix.length)}${suffix}`,
      model: { ...withPoint.model, params },
    },
    `trial ${trial.number}`,
  );
}

/**
 * Runs trial `number` of `experiment` and records its outcome (and a failure) on the trial.
 *
 * @throws StratumError NOT_FOUND when the experiment or trial does not exist; whatever the run threw.
 */
export async function runTrial(args: {
  experiment: ExperimentRecord;
  number: number;
  context: TrialContext;
}): Promise<TrialOutcome> {
  const { experiment, number, context } = args;
  const { store } = context;
  const spec = experiment.spec as TuneSpec;
  const trial = (await store.listTrials(experiment.id)).find((t) => t.number === number);
  if (trial === undefined) {
    throw new StratumError('NOT_FOUND', `trial ${number} of experiment "${experiment.id}" does not exist`);
  }
  if (FINISHED.includes(trial.status)) return outcomeOf(trial);
  if (trial.status === 'failed') await store.updateTrial({ experiment: experiment.id, number, status: 'running' });
  try {
    const train = trialTrainSpec(spec, trial);
    const gate = await rungGate({ store, experiment, number });
    let runId: string | undefined;
    const result = await runTraining(train, {
      store,
      artifacts: context.artifacts,
      by: context.by,
      baseDir: context.baseDir,
      ...(context.codeVersion !== undefined && { codeVersion: context.codeVersion }),
      onEvent: (event) => {
        if (event.phase === 'run') runId = event.runId;
        context.onEvent?.(event);
      },
      stopAfter: gate.stopAfter,
    });
    for (const { rung, value } of gate.reached) {
      await store.recordRung({ experiment: experiment.id, rung, trial: number, value });
    }
    const value = result.run.metrics[spec.metric];
    if (value === undefined || !Number.isFinite(value)) {
      throw new StratumError('BAD_REQUEST', `run ${result.run.id} recorded no finite "${spec.metric}"`, {
        details: { run: result.run.id, runId },
      });
    }
    const updated = await store.updateTrial({
      experiment: experiment.id,
      number,
      status: gate.stopped() ? 'stopped' : 'completed',
      runId: result.run.id,
      resource: result.run.metrics.steps ?? 0,
      value,
    });
    return outcomeOf(updated);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await store
      .updateTrial({ experiment: experiment.id, number, status: 'failed', error: message })
      .catch(() => undefined);
    throw error;
  }
}

function outcomeOf(trial: TrialRecord): TrialOutcome {
  return {
    number: trial.number,
    status: trial.status,
    ...(trial.runId !== undefined && { runId: trial.runId }),
    ...(trial.resource !== undefined && { resource: trial.resource }),
    ...(trial.value !== undefined && { value: trial.value }),
  };
}

/** The ASHA gate of one trial: decides at each rung from the rung records read at its start. */
async function rungGate(args: { store: MetadataStore; experiment: ExperimentRecord; number: number }) {
  const { store, experiment, number } = args;
  const spec = experiment.spec as TuneSpec;
  const reached: { rung: number; value: number }[] = [];
  let stopped = false;
  if (spec.scheduler === undefined) {
    return { reached, stopped: () => stopped, stopAfter: (_step: TrainStep) => false };
  }
  const { reductionFactor } = spec.scheduler;
  const milestones = new Set(rungMilestones(spec.scheduler));
  const recorded = new Map<number, number[]>();
  for (const result of await store.rungResults(experiment.id)) {
    if (result.trial === number) continue;
    recorded.set(result.rung, [...(recorded.get(result.rung) ?? []), result.value]);
  }
  const stopAfter = (step: TrainStep): boolean => {
    if (!milestones.has(step.step)) return false;
    // The scheduler ranks trials by the loss every trainer reports each step (held-out when there is a split).
    const value = step.validationLoss ?? step.trainLoss;
    reached.push({ rung: step.step, value });
    const others = recorded.get(step.step) ?? [];
    stopped = ashaDecision({ value, recorded: [...others, value], reductionFactor, mode: 'min' }) === 'stop';
    return stopped;
  };
  return { reached, stopped: () => stopped, stopAfter };
}
