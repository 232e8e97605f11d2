/**
 * Tuning experiments under `/api/v1/experiments`: the list, newest first, and one experiment with
 * its trials (point, run, resource, metric, status) and the scheduler's rung results. Read-only:
 * experiments are started by `stratum tune` or a `tune` job. One declaration per route (see
 * `route.ts`).
 */
import { ExperimentParams, ExperimentsQuery } from './management-schemas.ts';
import { page } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** The routes of tuning experiments. */
export const EXPERIMENT_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/experiments',
    permission: 'registry:read',
    summary: 'List tuning experiments, newest first',
    tags: ['experiments'],
    query: ExperimentsQuery,
    errors: ['BAD_REQUEST', 'STORE_UNAVAILABLE'],
    handler: async ({ query: q }, { registry }) =>
      page(
        await registry.listExperiments({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.status !== undefined && { status: q.status }),
        }),
        (e) => e,
      ),
  }),
  route({
    method: 'GET',
    path: '/api/v1/experiments/:id',
    permission: 'registry:read',
    summary: 'Show an experiment with its trials and rung results',
    tags: ['experiments'],
    params: ExperimentParams,
    errors: ['NOT_FOUND'],
    handler: async ({ params }, { registry }) => {
      const experiment = await registry.getExperiment(params.id);
      const [trials, rungs] = await Promise.all([registry.listTrials(params.id), registry.rungResults(params.id)]);
      return { ...experiment, trials, rungs: rungs.map(({ rung, trial, value }) => ({ rung, trial, value })) };
    },
  }),
];
