/**
 * Dataset versions under `/api/v1/datasets` (content hash, source, row count, profile) and the
 * reference profile of a model version: the profile of the dataset version its lineage names,
 * which monitoring compares live traffic with. One declaration per route (see `route.ts`).
 */
import { DatasetParams, DatasetVersionsQuery, ModelVersionParams } from './management-schemas.ts';
import { page } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** The routes of dataset versions and reference profiles. */
export const DATASET_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/datasets',
    permission: 'registry:read',
    summary: 'List dataset versions (content hash, source, rows, profile), newest first',
    tags: ['datasets'],
    query: DatasetVersionsQuery,
    errors: ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE'],
    handler: async ({ query: q }, { registry }) =>
      page(
        await registry.listDatasetVersions({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.name !== undefined && { name: q.name }),
        }),
        (d) => d,
      ),
  }),
  route({
    method: 'GET',
    path: '/api/v1/datasets/:version',
    permission: 'registry:read',
    summary: 'Show a dataset version with its profile',
    tags: ['datasets'],
    params: DatasetParams,
    errors: ['NOT_FOUND'],
    handler: ({ params }, { registry }) => registry.getDatasetVersion(params.version),
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/versions/:version/profile',
    permission: 'registry:read',
    summary: "A version's reference profile: the profile of the dataset version it was trained on",
    tags: ['versions'],
    params: ModelVersionParams,
    errors: ['BAD_REQUEST', 'MODEL_NOT_FOUND', 'VERSION_NOT_FOUND', 'NOT_FOUND'],
    handler: ({ params }, { registry }) => registry.referenceProfile(params.model, params.version),
  }),
];
