/**
 * A `train` job's effects happen once, however often it runs: every run it starts carries the
 * job's id (the `stratum.job` param), so an attempt that follows a crash, a stall or a retry first
 * looks for what an earlier attempt left. A version registered by one of the job's runs (found by
 * its lineage) or a succeeded run is the job's result, and nothing is trained again; a run an
 * earlier attempt left `running` (its worker died) is finished as failed, saying so, and a new
 * run starts. An attempt always holds the job's lock, so no two attempts look at once.
 */
import { StratumError } from '../errors/index.ts';
import type { MetadataStore, RunRecord, VersionRecord } from '../store/metadata-store.ts';
import { JOB_PARAM } from '../train/run/run-training.ts';
import type { TrainSpec } from '../train/run/train-spec.ts';

/** What an earlier attempt of the job left that is the job's result. */
export interface PriorTraining {
  readonly run: RunRecord;
  readonly version?: VersionRecord;
}

/** Options of {@link findPriorTraining}. */
export interface FindPriorTrainingOptions {
  readonly store: Pick<MetadataStore, 'listRuns' | 'finishRun' | 'listVersions'>;
  readonly spec: TrainSpec;
  readonly jobId: string;
}

/** The runs of a job (newest first): runs are listed by the spec's name, then matched on the param. */
export async function runsOfJob(
  store: Pick<MetadataStore, 'listRuns'>,
  options: { name: string; jobId: string },
): Promise<RunRecord[]> {
  const found: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ name: options.name, limit: 500, ...(cursor !== undefined && { cursor }) });
    found.push(...page.items.filter((run) => run.params[JOB_PARAM] === options.jobId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}

/** The version one of `runIds` registered of `model`, if any (newest versions first). */
async function versionOfRuns(
  store: Pick<MetadataStore, 'listVersions'>,
  options: { model: string; runIds: ReadonlySet<string> },
): Promise<VersionRecord | undefined> {
  let cursor: string | undefined;
  try {
    do {
      const page = await store.listVersions(options.model, { limit: 500, ...(cursor !== undefined && { cursor }) });
      const match = page.items.find((v) => v.lineage.runId !== undefined && options.runIds.has(v.lineage.runId));
      if (match !== undefined) return match;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  } catch (error) {
    // No such model yet: nothing was registered.
    if (error instanceof StratumError && (error.code === 'MODEL_NOT_FOUND' || error.code === 'NOT_FOUND')) {
      return undefined;
    }
    throw error;
  }
  return undefined;
}

/**
 * What an earlier attempt of the job already did, or undefined when the job must train. Runs an
 * earlier attempt abandoned are finished as failed on the way.
 */
export async function findPriorTraining(options: FindPriorTrainingOptions): Promise<PriorTraining | undefined> {
  const { store, spec, jobId } = options;
  const runs = await runsOfJob(store, { name: spec.name, jobId });
  if (runs.length === 0) return undefined;
  if (spec.register !== undefined) {
    const version = await versionOfRuns(store, { model: spec.register.model, runIds: new Set(runs.map((r) => r.id)) });
    if (version !== undefined) {
      let run = runs.find((r) => r.id === version.lineage.runId) as RunRecord;
      // The worker died between registering and finishing the run: the version is the outcome.
      if (run.status === 'running') {
        run = await store.finishRun({ id: run.id, status: 'succeeded', metrics: version.metrics });
      }
      return { run, version };
    }
  } else {
    const succeeded = runs.find((r) => r.status === 'succeeded');
    if (succeeded !== undefined) return { run: succeeded };
  }
  for (const run of runs.filter((r) => r.status === 'running')) {
    await store
      .finishRun({
        id: run.id,
        status: 'failed',
        error: `abandoned: the worker running job ${jobId} stopped before the run finished; a later attempt trains again`,
      })
      .catch(() => undefined);
  }
  return undefined;
}
