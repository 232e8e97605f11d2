/**
 * Dataset versions under `/api/v1/datasets` (content hash, source, row count, profile) and the
 * reference profile of a model version: the profile of the dataset version its lineage names,
 * which monitoring compares live traffic with.
 */
import type { FastifyInstance } from 'fastify';
import type { Tracking } from '../../registry/tracking.ts';
import { versionOf } from './management-routes.ts';
import { DatasetVersionsQuery } from './management-schemas.ts';
import { validate } from './request-helpers.ts';

/** Options of {@link registerDatasetRoutes}. */
export interface DatasetRoutesOptions {
  readonly store: Tracking;
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
  app.get('/api/v1/models/:model/versions/:version/profile', async (req) =>
    store.referenceProfile((req.params as { model: string }).model, versionOf(req)),
  );
}
