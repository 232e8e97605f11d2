/**
 * Deployments and rollouts under `/api/v1/deployments`: a thin shell over the registry (which
 * parses specs and rollout requests and holds every rule) and this replica's deployment source
 * (for the status). One declaration per route (see `route.ts`).
 */
import { planOf, planServes } from '../../deploy/deployment-plan.ts';
import { StratumError } from '../../errors/index.ts';
import type { Deployment } from '../../registry/registry.ts';
import {
  AbortBody,
  CreateDeploymentBody,
  DeploymentParams,
  DeploymentsQuery,
  PageOnlyQuery,
  RolloutBody,
  UpdateDeploymentBody,
} from './management-schemas.ts';
import { actorOf, expectedRevision, ifMatch, page, sendWithEtag } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

// What the audit log records of a change: the deployment's path, and its state as the API shows it.
const deploymentPath = ({ params }: { readonly params: { readonly name: string } }) => `deployments/${params.name}`;
const deploymentState = async (
  { params }: { readonly params: { readonly name: string } },
  { registry }: ManagementContext,
) => deploymentJson(await registry.getDeployment(params.name));

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE'] as const;

function deploymentJson(deployment: Deployment): unknown {
  return { ...deployment, etag: `"${deployment.revision}"` };
}

/** The routes of deployments and their rollouts. */
export const DEPLOYMENT_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/deployments',
    permission: 'registry:read',
    summary: 'List deployments',
    tags: ['deployments'],
    query: DeploymentsQuery,
    errors: COMMON,
    handler: async ({ query: q }, { registry }) =>
      page(
        await registry.listDeployments({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.model !== undefined && { model: q.model }),
        }),
        deploymentJson,
      ),
  }),
  route({
    method: 'POST',
    path: '/api/v1/deployments',
    permission: 'deployments:write',
    summary: 'Create a deployment: {"name": …, …spec}',
    tags: ['deployments'],
    body: CreateDeploymentBody,
    status: 201,
    etag: true,
    audit: { action: 'deployment.create', resource: ({ body }) => `deployments/${body.name}` },
    errors: [
      ...COMMON,
      'ALREADY_EXISTS',
      'MODEL_NOT_FOUND',
      'VERSION_NOT_FOUND',
      'ALIAS_NOT_FOUND',
      'SIGNATURE_MISMATCH',
    ],
    handler: async ({ body, request, reply }, { registry }) => {
      const { name, ...spec } = body;
      const deployment = await registry.createDeployment({ name, spec, by: actorOf(request) });
      return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment), status: 201 });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name',
    permission: 'registry:read',
    summary: 'Show a deployment (with its ETag)',
    tags: ['deployments'],
    params: DeploymentParams,
    etag: true,
    errors: ['DEPLOYMENT_NOT_FOUND'],
    handler: async ({ params, reply }, { registry }) => {
      const deployment = await registry.getDeployment(params.name);
      return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
    },
  }),
  route({
    method: 'PUT',
    path: '/api/v1/deployments/:name',
    permission: 'deployments:write',
    summary: "Replace a deployment's spec",
    tags: ['deployments'],
    params: DeploymentParams,
    body: UpdateDeploymentBody,
    etag: true,
    audit: { action: 'deployment.update', resource: deploymentPath, state: deploymentState },
    errors: [...COMMON, 'DEPLOYMENT_NOT_FOUND', 'PRECONDITION_FAILED', 'SIGNATURE_MISMATCH', 'ROLLOUT_CONFLICT'],
    handler: async ({ params, body, request, reply }, { registry }) => {
      const expected = expectedRevision(request);
      const { force, reason } = body;
      const spec = Object.fromEntries(
        Object.entries(body).filter(([key]) => key !== 'name' && key !== 'force' && key !== 'reason'),
      );
      if (force !== undefined && typeof force !== 'boolean') {
        throw new StratumError(
          'BAD_REQUEST',
          `invalid body: force must be true or false, got ${JSON.stringify(force)}`,
        );
      }
      if (reason !== undefined && typeof reason !== 'string') {
        throw new StratumError('BAD_REQUEST', `invalid body: reason must be a string, got ${JSON.stringify(reason)}`);
      }
      const deployment = await ifMatch(expected, () =>
        registry.updateDeployment({
          name: params.name,
          spec,
          by: actorOf(request),
          ...(expected !== undefined && { expectedRevision: expected }),
          ...(force !== undefined && { force }),
          ...(reason !== undefined && { reason }),
        }),
      );
      return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/deployments/:name',
    permission: 'deployments:write',
    summary: 'Delete a deployment',
    tags: ['deployments'],
    params: DeploymentParams,
    status: 204,
    etag: true,
    audit: { action: 'deployment.delete', resource: deploymentPath, state: deploymentState },
    errors: ['DEPLOYMENT_NOT_FOUND', 'PRECONDITION_FAILED'],
    handler: async ({ params, request }, { registry }) => {
      const expected = expectedRevision(request);
      await ifMatch(expected, () =>
        registry.deleteDeployment({
          name: params.name,
          by: actorOf(request),
          ...(expected !== undefined && { expectedRevision: expected }),
        }),
      );
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/events',
    permission: 'registry:read',
    summary: "A deployment's history: creation, updates, switches, canary steps, rollbacks and why",
    tags: ['deployments'],
    params: DeploymentParams,
    query: PageOnlyQuery,
    errors: ['DEPLOYMENT_NOT_FOUND'],
    handler: async ({ params, query: q }, { registry }) => {
      await registry.getDeployment(params.name);
      return page(
        await registry.deploymentEvents({
          deployment: params.name,
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
        }),
        (e) => e,
      );
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/status',
    permission: 'registry:read',
    summary: "This replica's view: served revision, loaded versions, canary window, shadow comparison",
    tags: ['deployments'],
    params: DeploymentParams,
    errors: ['DEPLOYMENT_NOT_FOUND'],
    handler: async ({ params: { name } }, { registry, deployments }) => {
      const deployment = await registry.getDeployment(name);
      const replica = deployments.has(name) ? deployments.status(name) : undefined;
      const desired = await planOf(registry, deployment);
      return {
        name,
        revision: deployment.revision,
        servedRevision: replica?.revision ?? null,
        desiredRoutes: desired.routes,
        converged: planServes(deployments.served(name), desired),
        // What moves must keep working: the input and output names clients have used.
        clientUsage: await registry.clientUsage(name),
        canary: deployment.state.canary ?? null,
        replica: replica ?? null,
      };
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/deployments/:name/rollouts',
    permission: 'deployments:write',
    summary: 'Start a blue-green switch or a canary',
    tags: ['deployments'],
    params: DeploymentParams,
    body: RolloutBody,
    status: 202,
    etag: true,
    audit: { action: 'rollout.start', resource: deploymentPath, state: deploymentState },
    errors: [
      ...COMMON,
      'DEPLOYMENT_NOT_FOUND',
      'VERSION_NOT_FOUND',
      'ALIAS_NOT_FOUND',
      'SIGNATURE_MISMATCH',
      'ROLLOUT_CONFLICT',
      'PRECONDITION_FAILED',
    ],
    handler: async ({ params, body, request, reply }, { registry }) => {
      const expected = expectedRevision(request);
      const deployment = await ifMatch(expected, () =>
        registry.startRollout({
          name: params.name,
          request: body,
          by: actorOf(request),
          ...(expected !== undefined && { expectedRevision: expected }),
        }),
      );
      return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment), status: 202 });
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/deployments/:name/rollouts/abort',
    permission: 'deployments:write',
    summary: 'Abort the running canary (all traffic back to the stable version)',
    tags: ['deployments'],
    params: DeploymentParams,
    body: AbortBody,
    etag: true,
    audit: { action: 'rollout.abort', resource: deploymentPath, state: deploymentState },
    errors: ['DEPLOYMENT_NOT_FOUND', 'ROLLOUT_CONFLICT'],
    handler: async ({ params: { name }, body, request, reply }, { registry }) => {
      const current = await registry.getDeployment(name);
      const canary = current.state.canary;
      if (canary?.status !== 'running') {
        throw new StratumError('ROLLOUT_CONFLICT', `deployment "${name}" has no running canary to abort`);
      }
      const deployment = await registry.rollbackCanary({
        name,
        canaryId: canary.id,
        reason: body.reason,
        by: actorOf(request),
        status: 'aborted',
      });
      return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
    },
  }),
];
