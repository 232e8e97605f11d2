/**
 * The permission every route needs, in one table. One hook enforces it; a route missing from the
 * table fails at start-up rather than being served unguarded.
 */

/** Permissions a principal can hold. */
export type Permission =
  | 'public'
  | 'metrics:read'
  | 'models:read'
  | 'models:infer'
  | 'repository:read'
  | 'repository:write'
  | 'registry:read'
  | 'registry:write'
  | 'deployments:write';

/** `METHOD url` → permission. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission>> = Object.freeze({
  'GET /v2/health/live': 'public',
  'GET /v2/health/ready': 'public',
  'GET /v2': 'public',
  'GET /metrics': 'metrics:read',
  'GET /v2/models/:model': 'models:read',
  'GET /v2/models/:model/versions/:version': 'models:read',
  'GET /v2/models/:model/ready': 'models:read',
  'GET /v2/models/:model/versions/:version/ready': 'models:read',
  'POST /v2/models/:model/infer': 'models:infer',
  'POST /v2/models/:model/versions/:version/infer': 'models:infer',
  'GET /v2/models/stats': 'models:read',
  'GET /v2/models/:model/stats': 'models:read',
  'GET /v2/models/:model/versions/:version/stats': 'models:read',
  'POST /v2/repository/index': 'repository:read',
  'POST /v2/repository/models/:model/load': 'repository:write',
  'POST /v2/repository/models/:model/unload': 'repository:write',
  'GET /api/v1/openapi.json': 'public',
  'GET /api/v1/models': 'registry:read',
  'POST /api/v1/models': 'registry:write',
  'GET /api/v1/models/:model': 'registry:read',
  'PATCH /api/v1/models/:model': 'registry:write',
  'DELETE /api/v1/models/:model': 'registry:write',
  'GET /api/v1/models/:model/versions': 'registry:read',
  'POST /api/v1/models/:model/versions': 'registry:write',
  'GET /api/v1/models/:model/versions/:version': 'registry:read',
  'PATCH /api/v1/models/:model/versions/:version': 'registry:write',
  'DELETE /api/v1/models/:model/versions/:version': 'registry:write',
  'GET /api/v1/models/:model/versions/:version/artifact': 'registry:read',
  'GET /api/v1/models/:model/aliases': 'registry:read',
  'GET /api/v1/models/:model/aliases/:alias': 'registry:read',
  'PUT /api/v1/models/:model/aliases/:alias': 'registry:write',
  'DELETE /api/v1/models/:model/aliases/:alias': 'registry:write',
  'GET /api/v1/models/:model/aliases/:alias/history': 'registry:read',
  'GET /api/v1/models/:model/alias-history': 'registry:read',
  'POST /api/v1/artifacts/gc': 'registry:write',
  'GET /api/v1/deployments': 'registry:read',
  'POST /api/v1/deployments': 'deployments:write',
  'GET /api/v1/deployments/:name': 'registry:read',
  'PUT /api/v1/deployments/:name': 'deployments:write',
  'DELETE /api/v1/deployments/:name': 'deployments:write',
  'GET /api/v1/deployments/:name/events': 'registry:read',
  'GET /api/v1/deployments/:name/status': 'registry:read',
  'POST /api/v1/deployments/:name/rollouts': 'deployments:write',
  'POST /api/v1/deployments/:name/rollouts/abort': 'deployments:write',
  'GET /api/v1/datasets': 'registry:read',
  'GET /api/v1/datasets/:version': 'registry:read',
  'GET /api/v1/models/:model/versions/:version/profile': 'registry:read',
  'GET /api/v1/runs': 'registry:read',
  'POST /api/v1/runs': 'registry:write',
  'GET /api/v1/runs/:id': 'registry:read',
  'POST /api/v1/runs/:id/metrics': 'registry:write',
  'GET /api/v1/runs/:id/metrics': 'registry:read',
  'POST /api/v1/runs/:id/finish': 'registry:write',
});

/** What the hook asks. */
export interface AuthorizationRequest {
  readonly permission: Permission;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The model named in the route, if any. */
  readonly model?: string;
}

/**
 * Decides whether a request may proceed; throws a StratumError (UNAUTHENTICATED or
 * PERMISSION_DENIED) when not.
 */
export type Authorizer = (request: AuthorizationRequest) => void | Promise<void>;

/** Lets everything through (until principals and roles exist). */
export const allowAll: Authorizer = () => undefined;

/** The permission for a route, or undefined when the table lacks it. */
export function permissionFor(method: string, url: string): Permission | undefined {
  return ROUTE_PERMISSIONS[`${method} ${url}`];
}
