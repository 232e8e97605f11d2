/**
 * Tracked runs, dataset versions and tuning experiments as the registry serves them: the run rules (a finished run
 * never changes, a (key, step) is recorded once) are the store's; the reference profile of a model
 * version — the profile of the dataset version its lineage names — is joined here.
 */
import { StratumError } from '../errors/index.ts';
import type { MetadataStore } from '../store/metadata-store.ts';

/** A version's reference profile. */
export interface ReferenceProfile {
  readonly model: string;
  readonly version: number;
  readonly datasetVersion: string;
  readonly profile: unknown;
}

/** Runs and dataset versions: the store's methods, and the reference profile joined here. */
export interface Tracking extends Pick<
  MetadataStore,
  | 'createRun'
  | 'getRun'
  | 'listRuns'
  | 'logRunMetrics'
  | 'runMetrics'
  | 'finishRun'
  | 'listDatasetVersions'
  | 'getDatasetVersion'
  | 'listExperiments'
  | 'getExperiment'
  | 'listTrials'
  | 'rungResults'
> {
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
    listExperiments: (options) => store.listExperiments(options),
    getExperiment: (id) => store.getExperiment(id),
    listTrials: (experiment) => store.listTrials(experiment),
    rungResults: (experiment) => store.rungResults(experiment),

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
