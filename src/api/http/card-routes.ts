/**
 * Model cards under `/api/v1`: a version's card as JSON, assembled from the registry by
 * `buildModelCard` (the CLI renders the same JSON as Markdown). One declaration per route (see `route.ts`).
 */
import { buildModelCard } from '../../train/card/build-model-card.ts';
import { ModelCardSchema } from '../../registry/model-card.ts';
import { ModelVersionParams } from './management-schemas.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** The routes of model cards. */
export const CARD_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/models/:model/versions/:version/card',
    permission: 'registry:read',
    summary:
      "A version's model card: data, metrics, intended use, fairness per sensitive group, permutation importance, privacy spent",
    tags: ['versions'],
    params: ModelVersionParams,
    reply: ModelCardSchema,
    errors: ['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND', 'STORE_UNAVAILABLE'],
    handler: ({ params }, { registry }) => buildModelCard({ registry, model: params.model, version: params.version }),
  }),
];
