/**
 * Tracked runs and dataset versions as the registry serves them: the run rules (a finished run
 * never changes, a (key, step) is recorded once) are the store's; the reference profile of a model
 * version — the profile of the dataset version its lineage names — is joined here.
 */
import { StratumError } from '../errors/index.ts';
import type {
  DatasetVersionRecord,
  MetadataStore,
  NewRun,
  Page,
  PageOptions,
  RunFinish,
  RunMetric,
  RunRecord,
  RunStatus,
} from '../store/metadata-store.ts';

/** A version's reference profile. */
export interface ReferenceProfile {
  readonly model: string;
  readonly version: number;
  readonly datasetVersion: string;
  readonly profile: unknown;
}

/** Runs and dataset versions. */
export interface Tracking {
  /** Starts a run (status `running`). */
  createRun(run: NewRun): Promise<RunRecord>;
  /** NOT_FOUND (naming the run) when there is no such run. */
  getRun(id: string): Promise<RunRecord>;
  /** Newest first. */
  listRuns(options?: PageOptions & { status?: RunStatus; name?: string }): Promise<Page<RunRecord>>;
  /** Records metric values at steps, all or none (refused on a finished run). */
  logRunMetrics(
    runId: string,
    metrics: readonly { readonly key: string; readonly step: number; readonly value: number }[],
  ): Promise<readonly RunMetric[]>;
  /** Ordered by key, then step; only `key` when given. */
  runMetrics(runId: string, options?: { key?: string }): Promise<readonly RunMetric[]>;
  /** Ends a running run. */
  finishRun(finish: RunFinish): Promise<RunRecord>;
  /** Newest first; filtered by name. */
  listDatasetVersions(options?: PageOptions & { name?: string }): Promise<Page<DatasetVersionRecord>>;
  /** NOT_FOUND (naming the version) when there is no such dataset version. */
  getDatasetVersion(version: string): Promise<DatasetVersionRecord>;
  /** NOT_FOUND when the version's lineage names no dataset version. */
  referenceProfile(model: string, version: number): Promise<ReferenceProfile>;
}

/** Creates the tracking methods over a metadata store. */
export function createTracking(store: MetadataStore): Tracking {
  return {
    createRun: (run) => store.createRun(run),
    getRun: (id) => store.getRun(id),
    listRuns: (options) => store.listRuns(options),
    logRunMetrics: (runId, metrics) => store.logRunMetrics(runId, metrics),
    runMetrics: (runId, options) => store.runMetrics(runId, options),
    finishRun: (finish) => store.finishRun(finish),
    listDatasetVersions: (options) => store.listDatasetVersions(options),
    getDatasetVersion: (version) => store.getDatasetVersion(version),

    async referenceProfile(model, number) {
      const version = await store.getVersion(model, number);
      const datasetVersion = version.lineage.datasetVersion;
      if (datasetVersion === undefined) {
        throw new StratumError(
          'NOT_FOUND',
          `version ${version.version} of model ${JSON.stringify(version.model)} has no reference profile: its lineage names no dataset version`,
        );
      }
      const dataset = await store.getDatasetVersion(datasetVersion);
      return { model: version.model, version: version.version, datasetVersion, profile: dataset.profile };
    },
  };
}
