/**
 * Drift under `/api/v1/deployments/{name}/drift`: the newest stored report, a report computed now,
 * and the deployment's drift settings. A thin shell over the drift service (`monitor/drift`); a
 * server without one answers UNSUPPORTED. One declaration per route (see `route.ts`).
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { DriftConfigSchema, parseWindowParameter } from '../../drift/drift-config.ts';
import { DriftReportSchema } from '../../drift/drift-report.ts';
import type { DriftService } from '../../drift/drift-service.ts';
import { DeploymentParams, VersionParam } from './management-schemas.ts';
import { actorOf } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE', 'DEPLOYMENT_NOT_FOUND', 'UNSUPPORTED'] as const;

const WindowParam = z
  .string()
  .describe('a row count ("5000") or a duration ("15m", "1h", "7d"); default: the deployment\'s setting');

/** `?version=&window=` of the drift routes. */
const DriftQuery = z.object({ version: VersionParam.optional(), window: WindowParam.optional() });
/** The body of a computation: which version and window (both optional). */
const ComputeDriftBody = z
  .object({ version: z.number().int().min(1).optional(), window: WindowParam.optional() })
  .strict();

function driftOf(context: ManagementContext): DriftService {
  if (context.drift === undefined) {
    throw new StratumError('UNSUPPORTED', 'drift detection is not set up on this server');
  }
  return context.drift;
}

function target(name: string, options: { version?: number | undefined; window?: string | undefined }) {
  return {
    deployment: name,
    ...(options.version !== undefined && { version: options.version }),
    ...(options.window !== undefined && { window: parseWindowParameter(options.window) }),
  };
}

/** The drift routes. */
export const DRIFT_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/drift',
    permission: 'registry:read',
    summary:
      "The newest drift report of a deployment (of a version, over a window); status 'no-data' when its window was empty",
    tags: ['deployments'],
    params: DeploymentParams,
    query: DriftQuery,
    reply: DriftReportSchema,
    errors: [...COMMON, 'NOT_FOUND'],
    handler: ({ params, query }, context) => driftOf(context).latest(target(params.name, query)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/deployments/:name/drift',
    permission: 'deployments:write',
    audit: { action: 'drift.compute', resource: ({ params }) => `deployments/${params.name}/drift` },
    summary: "Compute a drift report now (and keep it): the current window against the version's training reference",
    tags: ['deployments'],
    params: DeploymentParams,
    body: ComputeDriftBody,
    reply: DriftReportSchema,
    errors: [...COMMON, 'NOT_FOUND', 'VERSION_NOT_FOUND'],
    handler: ({ params, body }, context) => driftOf(context).compute(target(params.name, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/drift/config',
    permission: 'registry:read',
    summary: "A deployment's drift settings (the defaults when none were set)",
    tags: ['deployments'],
    params: DeploymentParams,
    reply: DriftConfigSchema,
    errors: COMMON,
    handler: ({ params }, context) => driftOf(context).getConfig(params.name),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/deployments/:name/drift/config',
    permission: 'deployments:write',
    audit: {
      action: 'drift.configure',
      resource: ({ params }) => `deployments/${params.name}/drift/config`,
      state: ({ params }, context) => driftOf(context).getConfig(params.name),
    },
    summary: "Set a deployment's drift settings: window, thresholds, drift share, per-column tests",
    tags: ['deployments'],
    params: DeploymentParams,
    body: DriftConfigSchema,
    reply: DriftConfigSchema,
    errors: COMMON,
    handler: ({ params, body, request }, context) =>
      driftOf(context).setConfig({ deployment: params.name, config: body, by: actorOf(request) }),
  }),
];
