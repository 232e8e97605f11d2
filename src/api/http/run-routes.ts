/**
 * Tracked runs under `/api/v1/runs`: start a run, log metrics by step, finish it as succeeded or
 * failed (with its error). A thin shell over the registry's run methods; the rules (a finished run
 * never changes) are the store's. One declaration per route (see `route.ts`).
 */
import {
  CreateRunBody,
  FinishRunBody,
  RunMetricsBody,
  RunMetricsQuery,
  RunParams,
  RunsQuery,
} from './management-schemas.ts';
import { actorOf, page } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE'] as const;

/** The routes of tracked runs. */
export const RUN_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/runs',
    permission: 'registry:read',
    summary: 'List tracked runs, newest first',
    tags: ['runs'],
    query: RunsQuery,
    errors: COMMON,
    handler: async ({ query: q }, { registry }) =>
      page(
        await registry.listRuns({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.status !== undefined && { status: q.status }),
          ...(q.name !== undefined && { name: q.name }),
        }),
        (r) => r,
      ),
  }),
  route({
    method: 'POST',
    path: '/api/v1/runs',
    permission: 'registry:write',
    summary: 'Start a run: name, params, dataset and code versions',
    tags: ['runs'],
    body: CreateRunBody,
    status: 201,
    audit: {
      action: 'run.create',
      resource: (_input, result) =>
        `runs${typeof (result as { id?: unknown } | undefined)?.id === 'string' ? `/${(result as { id: string }).id}` : ''}`,
    },
    errors: COMMON,
    handler: ({ body, request }, { registry }) =>
      registry.createRun({
        name: body.name,
        params: body.params,
        by: actorOf(request),
        ...(body.datasetVersion !== undefined && { datasetVersion: body.datasetVersion }),
        ...(body.codeVersion !== undefined && { codeVersion: body.codeVersion }),
      }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/runs/:id',
    permission: 'registry:read',
    summary: 'Show a run',
    tags: ['runs'],
    params: RunParams,
    errors: ['NOT_FOUND'],
    handler: ({ params }, { registry }) => registry.getRun(params.id),
  }),
  route({
    method: 'POST',
    path: '/api/v1/runs/:id/metrics',
    permission: 'registry:write',
    summary: 'Log metric values at steps (refused once the run has finished)',
    tags: ['runs'],
    params: RunParams,
    audit: { action: 'run.log-metrics', resource: ({ params }) => `runs/${params.id}` },
    body: RunMetricsBody,
    status: 201,
    errors: [...COMMON, 'NOT_FOUND', 'ALREADY_EXISTS', 'RUN_FINISHED'],
    handler: async ({ params, body }, { registry }) => ({
      items: await registry.logRunMetrics(params.id, body.metrics),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/runs/:id/metrics',
    permission: 'registry:read',
    summary: "A run's metric values, by key then step",
    tags: ['runs'],
    params: RunParams,
    query: RunMetricsQuery,
    errors: ['BAD_REQUEST', 'NOT_FOUND'],
    handler: async ({ params, query: q }, { registry }) => ({
      items: await registry.runMetrics(params.id, q.key === undefined ? {} : { key: q.key }),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/runs/:id/finish',
    permission: 'registry:write',
    summary: 'Finish a run as succeeded or failed (with its error), with summary metrics and artifacts',
    tags: ['runs'],
    params: RunParams,
    audit: {
      action: 'run.finish',
      resource: ({ params }) => `runs/${params.id}`,
      state: ({ params }, { registry }) => registry.getRun(params.id),
    },
    body: FinishRunBody,
    errors: [...COMMON, 'NOT_FOUND', 'ALREADY_EXISTS', 'RUN_FINISHED'],
    handler: ({ params, body }, { registry }) =>
      registry.finishRun({
        id: params.id,
        status: body.status,
        ...(body.error !== undefined && { error: body.error }),
        ...(body.metrics !== undefined && { metrics: body.metrics }),
        ...(body.artifacts !== undefined && { artifacts: body.artifacts }),
      }),
  }),
];
