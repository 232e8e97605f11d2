/**
 * Retraining pipelines under `/api/v1/pipelines`: their specs (kept by name, checked before they
 * are written), runs started by hand, and every run with its steps. A thin shell over the
 * pipeline service (`src/pipelines`); runs execute as `pipeline` jobs.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import type { PipelineService } from '../../pipelines/pipeline-service.ts';
import { PipelineSpecSchema } from '../../pipelines/pipeline-spec.ts';
import { actorOf } from './request-helpers.ts';
import { documentedAs, type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE', 'UNSUPPORTED'] as const;

const PipelineParams = z.object({ name: z.string() });
const RunParams = z.object({ id: z.string() });
const RunsQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'limit must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional(),
});

/** The spec is checked by the service, whose messages name every bad field by its path. */
const SpecBody = documentedAs(z.record(z.string(), z.unknown()), PipelineSpecSchema);

const RunReply = z.object({
  id: z.string(),
  pipeline: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'rejected', 'rolled_back', 'failed', 'cancelled']),
  trigger: z.unknown(),
  spec: z.unknown(),
  steps: z.array(z.unknown()),
  outcome: z.unknown().optional(),
  createdBy: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
});

function pipelinesOf(context: ManagementContext): PipelineService {
  if (context.pipelines === undefined) {
    throw new StratumError('UNSUPPORTED', 'retraining pipelines are not set up on this server');
  }
  return context.pipelines;
}

const pipelinePath = ({ params }: { params: { name: string } }): string => `pipelines/${params.name}`;
const runPath = ({ params }: { params: { id: string } }): string => `pipeline-runs/${params.id}`;

/** The pipeline routes. */
export const PIPELINE_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/pipelines',
    permission: 'jobs:read',
    summary: 'Every retraining pipeline, with its newest run and when its schedule fires next',
    tags: ['pipelines'],
    errors: ['STORE_UNAVAILABLE', 'UNSUPPORTED'],
    handler: async (_input, context) => ({ items: await pipelinesOf(context).list() }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/pipelines/:name',
    permission: 'jobs:read',
    summary: 'A pipeline: its spec, newest run and next scheduled run',
    tags: ['pipelines'],
    params: PipelineParams,
    errors: ['PIPELINE_NOT_FOUND', 'UNSUPPORTED'],
    handler: ({ params }, context) => pipelinesOf(context).get(params.name),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/pipelines/:name',
    // A pipeline trains, moves aliases and canaries versions by itself: declaring one is deploying.
    permission: 'deployments:write',
    summary:
      'Create or replace a pipeline: ingest → train → evaluate against production → gate → candidate → canary → promote (a bad field is refused with its path)',
    tags: ['pipelines'],
    params: PipelineParams,
    body: SpecBody,
    errors: COMMON,
    audit: {
      action: 'pipeline.put',
      resource: pipelinePath,
      state: ({ params }, context) =>
        pipelinesOf(context)
          .get(params.name)
          .then((p) => p.spec),
    },
    handler: async ({ params, body, request, reply }, context) => {
      const record = await pipelinesOf(context).put({ spec: body, by: actorOf(request), name: params.name });
      reply.code(record.created ? 201 : 200);
      return record;
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/pipelines/:name',
    permission: 'deployments:write',
    summary: 'Delete a pipeline (its runs stay, as history)',
    tags: ['pipelines'],
    params: PipelineParams,
    status: 204,
    errors: ['PIPELINE_NOT_FOUND', 'UNSUPPORTED'],
    audit: {
      action: 'pipeline.delete',
      resource: pipelinePath,
      state: ({ params }, context) =>
        pipelinesOf(context)
          .get(params.name)
          .then((p) => p.spec),
    },
    handler: async ({ params }, context) => {
      await pipelinesOf(context).delete(params.name);
      return undefined;
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/pipelines/:name/runs',
    permission: 'jobs:write',
    summary: 'Start a run of the pipeline now (as a `pipeline` job); 409 while one is queued or running',
    tags: ['pipelines'],
    params: PipelineParams,
    status: 202,
    reply: RunReply,
    errors: ['PIPELINE_NOT_FOUND', 'PIPELINE_RUNNING', 'QUEUE_UNAVAILABLE', 'UNSUPPORTED'],
    audit: { action: 'pipeline.run', resource: (input, result) => runResource(input.params.name, result) },
    handler: ({ params, request }, context) =>
      pipelinesOf(context).start({ name: params.name, trigger: { kind: 'manual' }, by: actorOf(request) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/pipelines/:name/runs',
    permission: 'jobs:read',
    summary: "A pipeline's runs, newest first, with their steps",
    tags: ['pipelines'],
    params: PipelineParams,
    query: RunsQuery,
    errors: ['BAD_REQUEST', 'UNSUPPORTED'],
    handler: async ({ params, query }, context) => ({
      items: await pipelinesOf(context).runs({
        pipeline: params.name,
        ...(query.limit !== undefined && { limit: query.limit }),
      }),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/pipeline-runs/:id',
    permission: 'jobs:read',
    summary: 'A pipeline run: its trigger, status, every step with its inputs and outputs, and its outcome',
    tags: ['pipelines'],
    params: RunParams,
    reply: RunReply,
    errors: ['PIPELINE_NOT_FOUND', 'UNSUPPORTED'],
    handler: ({ params }, context) => pipelinesOf(context).run(params.id),
  }),
  route({
    method: 'POST',
    path: '/api/v1/pipeline-runs/:id/cancel',
    permission: 'jobs:write',
    summary: 'Cancel a run: its jobs are cancelled and a canary it started is rolled back',
    tags: ['pipelines'],
    params: RunParams,
    reply: RunReply,
    errors: ['PIPELINE_NOT_FOUND', 'JOB_FINISHED', 'QUEUE_UNAVAILABLE', 'UNSUPPORTED'],
    audit: { action: 'pipeline.cancel', resource: runPath },
    handler: ({ params }, context) => pipelinesOf(context).cancel(params.id),
  }),
];

function runResource(name: string, result: unknown): string {
  const id = (result as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? `pipeline-runs/${id}` : `pipelines/${name}/runs`;
}
