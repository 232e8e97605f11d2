/**
 * The coordinator of an experiment: keeps up to `maxConcurrentTrials` trials running, asks the
 * searcher for the next point as trials finish (TPE sees every finished trial), and when the budget
 * is spent registers the best trial's model with its lineage (run, dataset, experiment). Its state
 * is the store's: a coordinator started again on the same experiment (a recovered `tune` job)
 * rejoins the trials still running, adds only the points not yet recorded, and registers at most
 * once. How a trial runs — in this process or as a `trial` job on any worker — is the launcher's.
 */
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { StratumError } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ExperimentFinish, ExperimentRecord, MetadataStore, TrialRecord } from '../../store/metadata-store.ts';
import { createSearcher } from './create-searcher.ts';
import type { Observation } from './searcher.ts';
import type { TuneSpec } from './tune-spec.ts';

/** Runs trials. */
export interface TrialLauncher {
  /**
   * Runs trial `trial.number` — or rejoins it, when an earlier coordinator launched it — and
   * resolves once it has finished, however it ended (the trial's record says how).
   */
  launch(trial: TrialRecord): Promise<void>;
}

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** The experiment's id: a new one is created under it, an existing one is resumed. */
  readonly id: string;
  readonly spec: TuneSpec;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  /** Needed when the spec registers the best model. */
  readonly registry?: Registry;
  readonly launcher: TrialLauncher;
  readonly by: string;
  /** The coordinating job, recorded on the experiment. */
  readonly jobId?: string;
  /** Told after every change to a trial (for a live table or job progress). */
  readonly onTrials?: (trials: readonly TrialRecord[]) => void;
  /**
   * Stops launching trials. Aborted as a cancel (JOB_CANCELLED), the experiment ends `cancelled`
   * once the running ones return; aborted for any other reason (the worker shuts down or lost the
   * job's lock), it stays `running` for the coordinator that takes the job next, and the reason
   * is thrown.
   */
  readonly signal?: AbortSignal;
}

/** What an experiment ended with. */
export interface ExperimentResult {
  readonly experiment: ExperimentRecord;
  readonly trials: readonly TrialRecord[];
}

/** Runs (or resumes) an experiment to its end. */
export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentResult> {
  const { store, spec } = options;
  const experiment = await openExperiment(options);
  if (experiment.status !== 'running') {
    // Ended by a coordinator that died before it registered the best model: register it now.
    const trials = await store.listTrials(experiment.id);
    if (experiment.status !== 'succeeded' || spec.register === undefined || experiment.registered !== undefined) {
      return { experiment, trials };
    }
    const best = trials.find((t) => t.number === experiment.bestTrial);
    if (best === undefined) throw new StratumError('INTERNAL', `experiment ${experiment.id} has no best trial`);
    return { experiment: await registerAndRecord({ ...options, experiment, best }), trials };
  }
  const searcher = createSearcher({ space: spec.space, spec: spec.searcher });
  const budget = Math.min(spec.trials, searcher.size);
  let trials = await store.listTrials(experiment.id);
  const active = new Map<number, Promise<void>>();
  const refresh = async (): Promise<void> => {
    trials = await store.listTrials(experiment.id);
    options.onTrials?.(trials);
  };
  const start = (trial: TrialRecord): void => {
    const settled = options.launcher
      .launch(trial)
      .catch(async (error: unknown) => {
        // A launcher that could not run the trial at all leaves the record to say so.
        const message = error instanceof Error ? error.message : String(error);
        await store
          .updateTrial({ experiment: experiment.id, number: trial.number, status: 'failed', error: message })
          .catch(() => undefined);
      })
      .then(refresh)
      .finally(() => active.delete(trial.number));
    active.set(trial.number, settled);
  };
  // Wakes the loop below when the job is handed on, which may come while no trial is about to
  // end (a cancel instead waits for the running trials, whose jobs the launcher cancels).
  const handOn = new Promise<void>((resolve) => {
    const check = (): void => {
      if (handedOn(options.signal)) resolve();
    };
    check();
    options.signal?.addEventListener('abort', check, { once: true });
  });
  options.onTrials?.(trials);
  for (const trial of trials) if (trial.status === 'running') start(trial);
  let next = trials.length;
  for (;;) {
    while (active.size < spec.maxConcurrentTrials && next < budget && options.signal?.aborted !== true) {
      const point = searcher.suggest({ number: next, history: observations(trials, spec) });
      if (point === undefined) break;
      const trial = await addTrial(store, { experiment: experiment.id, number: next, params: point });
      next += 1;
      await refresh();
      if (trial.status === 'running' && !active.has(trial.number)) start(trial);
    }
    // Handed on (a shutdown, a lost lock): the running trials are the next coordinator's to rejoin.
    if (active.size === 0 || handedOn(options.signal)) break;
    await Promise.race([...active.values(), handOn]);
  }
  if (handedOn(options.signal)) throw (options.signal as AbortSignal).reason;
  return finishExperiment({ ...options, experiment, trials: await store.listTrials(experiment.id) });
}

function handedOn(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && !isCancel(signal.reason);
}

/** Whether an abort reason is a cancel of the job (rather than a shutdown or a lost lock). */
export function isCancel(reason: unknown): boolean {
  return !(reason instanceof StratumError) || reason.code === 'JOB_CANCELLED';
}

/**
 * Adds trial `number`, or returns it when another coordinator of the same experiment added it
 * first: a queue can hand a job to a second worker while the first, only slow, still runs it
 * (until it notices its lost lock), and both then walk the same trial numbers.
 */
async function addTrial(
  store: MetadataStore,
  trial: { experiment: string; number: number; params: Record<string, unknown> },
): Promise<TrialRecord> {
  try {
    return await store.addTrial(trial);
  } catch (error) {
    if (!(error instanceof StratumError) || error.code !== 'ALREADY_EXISTS') throw error;
    const existing = (await store.listTrials(trial.experiment)).find((t) => t.number === trial.number);
    if (existing === undefined) throw error;
    return existing;
  }
}

/** Finishes the experiment, or returns it as another coordinator finished it (telling `lost`). */
async function finish(store: MetadataStore, finishing: ExperimentFinish, lost?: () => void): Promise<ExperimentRecord> {
  try {
    return await store.finishExperiment(finishing);
  } catch (error) {
    if (!(error instanceof StratumError) || error.code !== 'RUN_FINISHED') throw error;
    lost?.();
    return store.getExperiment(finishing.id);
  }
}

async function openExperiment(options: RunExperimentOptions): Promise<ExperimentRecord> {
  const { store, spec, id } = options;
  try {
    return await store.getExperiment(id);
  } catch (error) {
    if (!(error instanceof StratumError) || error.code !== 'NOT_FOUND') throw error;
  }
  return store.createExperiment({
    id,
    name: spec.name,
    spec,
    metric: spec.metric,
    mode: spec.mode,
    by: options.by,
    ...(options.jobId !== undefined && { jobId: options.jobId }),
  });
}

/** Finished trials as the searcher sees them: lower loss is better whatever the mode. */
export function observations(trials: readonly TrialRecord[], spec: Pick<TuneSpec, 'mode'>): Observation[] {
  return trials
    .filter((t) => (t.status === 'completed' || t.status === 'stopped') && t.value !== undefined)
    .map((t) => ({ point: t.params, loss: spec.mode === 'max' ? -(t.value as number) : (t.value as number) }));
}

/** The best finished trial under the spec's metric and mode (earliest wins a tie). */
export function bestTrial(trials: readonly TrialRecord[], mode: 'max' | 'min'): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const trial of trials) {
    if ((trial.status !== 'completed' && trial.status !== 'stopped') || trial.value === undefined) continue;
    const better = mode === 'max' ? trial.value > (best?.value ?? -Infinity) : trial.value < (best?.value ?? Infinity);
    if (better) best = trial;
  }
  return best;
}

async function finishExperiment(
  args: RunExperimentOptions & { experiment: ExperimentRecord; trials: readonly TrialRecord[] },
): Promise<ExperimentResult> {
  const { store, experiment, trials, spec } = args;
  const best = bestTrial(trials, spec.mode);
  if (args.signal?.aborted === true) {
    const finished = await finish(store, {
      id: experiment.id,
      status: 'cancelled',
      ...(best !== undefined && { bestTrial: best.number, bestValue: best.value as number }),
    });
    return { experiment: finished, trials };
  }
  if (best === undefined) {
    const finished = await finish(store, {
      id: experiment.id,
      status: 'failed',
      error: `none of the ${trials.length} trials finished with a value of ${spec.metric}`,
    });
    return { experiment: finished, trials };
  }
  // Ended first, registered after: of two coordinators of one experiment (a queue that handed the
  // job on while the first was only slow), only the one whose finish lands registers.
  const finishing: ExperimentFinish = {
    id: experiment.id,
    status: 'succeeded',
    bestTrial: best.number,
    bestValue: best.value as number,
  };
  let won = true;
  const finished = await finish(store, finishing, () => (won = false));
  if (!won || spec.register === undefined) return { experiment: finished, trials };
  return { experiment: await registerAndRecord({ ...args, experiment: finished, best }), trials };
}

async function registerAndRecord(
  args: RunExperimentOptions & { experiment: ExperimentRecord; best: TrialRecord },
): Promise<ExperimentRecord> {
  const registered = await registerBest(args);
  return args.store.recordExperimentRegistration({ id: args.experiment.id, registered });
}

/**
 * Registers the best trial's model, once: a version of the model already carrying this
 * experiment in its lineage (a coordinator that died after registering) is taken as the result.
 */
async function registerBest(
  args: RunExperimentOptions & { experiment: ExperimentRecord; best: TrialRecord },
): Promise<{ model: string; version: number }> {
  const { store, artifacts, registry, spec, experiment, best } = args;
  const target = spec.register as NonNullable<TuneSpec['register']>;
  if (registry === undefined) throw new StratumError('INTERNAL', 'the tuning spec registers but no registry was given');
  const earlier = await store
    .listVersions(target.model, { limit: 50 })
    .then((page) => page.items.find((v) => v.lineage.experiment === experiment.id))
    .catch(() => undefined);
  if (earlier !== undefined) return { model: earlier.model, version: earlier.version };
  const run = await store.getRun(best.runId as string);
  const model = run.artifacts.find((a) => a.name === 'model.onnx');
  if (model === undefined) throw new StratumError('INTERNAL', `run ${run.id} stored no model.onnx`);
  const samples = run.artifacts.find((a) => a.name === 'samples.json')?.digest;
  const metrics = Object.fromEntries(
    Object.entries(run.metrics).filter(([key]) => !key.startsWith('baseline.') && key !== 'train_rows'),
  );
  const version = await registry.pushVersion({
    model: target.model,
    bytes: await artifacts.read(model.digest),
    by: args.by,
    description: target.description ?? `best trial (${best.number}) of experiment ${experiment.id} (${spec.name})`,
    metrics,
    lineage: {
      runId: run.id,
      experiment: experiment.id,
      ...(run.datasetVersion !== undefined && { datasetVersion: run.datasetVersion }),
      ...(samples !== undefined && { samples }),
    },
    ...(target.alias !== undefined && {
      alias: { name: target.alias, reason: `best trial of experiment ${experiment.id}` },
    }),
  });
  return { model: version.model, version: version.version };
}
