/**
 * Dataset versions under `/api/v1/datasets` (content hash, source, row count, profile) and the
 * reference profile of a model version: the profile of the dataset version its lineage names,
 * which monitoring compares live traffic with.
 */
import type { FastifyInstance } from 'fastify';
import { StratumError } from '../../errors/index.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { versionOf } from './management-routes.ts';
import { DatasetVersionsQuery } from './management-schemas.ts';
import { validate } from './request-helpers.ts';

/** Options of {@link registerDatasetRoutes}. */
export interface DatasetRoutesOptions {
  readonly store: MetadataStore;
}

/** Registers the dataset routes on the app. */
export function registerDatasetRoutes(app: FastifyInstance, options: DatasetRoutesOptions): void {
  const { store } = options;

  app.get('/api/v1/datasets', async (req) => {
    const q = validate(DatasetVersionsQuery, req.query, 'query');
    const page = await store.listDatasetVersions({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.cursor !== undefined && { cursor: q.cursor }),
      ...(q.name !== undefined && { name: q.name }),
    });
    return { items: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
  });
  app.get('/api/v1/datasets/:version', async (req) =>
    store.getDatasetVersion((req.params as { version: string }).version),
  );
  app.get('/api/v1/models/:model/versions/:version/profile', async (req) => {
    const version = await store.getVersion((req.params as { model: string }).model, versionOf(req));
    const datasetVersion = version.lineage.datasetVersion;
    if (datasetVersion === undefined) {
      throw new StratumError(
        'NOT_FOUND',
        `version ${version.version} of model ${JSON.stringify(version.model)} has no reference profile: its lineage names no dataset version`,
      );
    }
    const dataset = await store.getDatasetVersion(datasetVersion);
    return { model: version.model, version: version.version, datasetVersion, profile: dataset.profile };
  });
}
