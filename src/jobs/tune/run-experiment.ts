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
import type { ExperimentRecord, MetadataStore, TrialRecord } from '../../store/metadata-store.ts';
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
  /** Stops launching trials; the experiment ends `cancelled` once the running ones return. */
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
  if (experiment.status !== 'running') return { experiment, trials: await store.listTrials(experiment.id) };
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
  options.onTrials?.(trials);
  for (const trial of trials) if (trial.status === 'running') start(trial);
  let next = trials.length;
  for (;;) {
    while (active.size < spec.maxConcurrentTrials && next < budget && options.signal?.aborted !== true) {
      const point = searcher.suggest({ number: next, history: observations(trials, spec) });
      if (point === undefined) break;
      const trial = await store.addTrial({ experiment: experiment.id, number: next, params: point });
      next += 1;
      await refresh();
      start(trial);
    }
    if (active.size === 0) break;
    await Promise.race(active.values());
  }
  return finishExperiment({ ...options, experiment, trials: await store.listTrials(experiment.id) });
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
    const finished = await store.finishExperiment({
      id: experiment.id,
      status: 'cancelled',
      ...(best !== undefined && { bestTrial: best.number, bestValue: best.value as number }),
    });
    return { experiment: finished, trials };
  }
  if (best === undefined) {
    const finished = await store.finishExperiment({
      id: experiment.id,
      status: 'failed',
      error: `none of the ${trials.length} trials finished with a value of ${spec.metric}`,
    });
    return { experiment: finished, trials };
  }
  const registered = spec.register === undefined ? undefined : await registerBest({ ...args, best });
  const finished = await store.finishExperiment({
    id: experiment.id,
    status: 'succeeded',
    bestTrial: best.number,
    bestValue: best.value as number,
    ...(registered !== undefined && { registered }),
  });
  return { experiment: finished, trials };
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
