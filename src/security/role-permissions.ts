/**
 * Which permissions each role holds, and whether a principal's grants allow a permission on a
 * model. One frozen table: the docs' role table and the route × role test read the same rows.
 */
import type { Permission } from './permission.ts';
import type { Principal, Role, RoleGrant } from './principal.ts';

type Held = Exclude<Permission, 'public'>;

const VIEWER: readonly Held[] = ['metrics:read', 'models:read', 'repository:read', 'registry:read', 'jobs:read'];
const PREDICTOR: readonly Held[] = [...VIEWER, 'models:infer'];

/**
 * The permissions of each role. `trainer` and `deployer` both build on `predictor` and differ in
 * what they change: a trainer writes the registry (models, versions, runs) and submits jobs; a
 * deployer moves aliases, changes deployments and loads or unloads repository models. Only
 * `admin` collects artifacts and manages keys and reads the audit log.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Held>>> = Object.freeze({
  viewer: new Set(VIEWER),
  predictor: new Set(PREDICTOR),
  trainer: new Set<Held>([...PREDICTOR, 'registry:write', 'jobs:write']),
  deployer: new Set<Held>([...PREDICTOR, 'aliases:write', 'deployments:write', 'repository:write']),
  admin: new Set<Held>([
    ...PREDICTOR,
    'registry:write',
    'jobs:write',
    'aliases:write',
    'deployments:write',
    'repository:write',
    'artifacts:manage',
    'keys:manage',
    'audit:read',
  ]),
});

/**
 * Whether one of the grants holds `permission` for the request. A global grant applies to every
 * route; a grant limited to a model applies only to routes naming that model (`model`), never to
 * routes that name none (lists, jobs, deployments), which need a global grant.
 */
export function grantsAllow(
  grants: readonly RoleGrant[],
  request: { readonly permission: Held; readonly model?: string | undefined },
): boolean {
  return grants.some(
    (grant) =>
      ROLE_PERMISSIONS[grant.role].has(request.permission) &&
      (grant.model === undefined || grant.model === request.model),
  );
}

/** Whether the principal holds `permission` on every model (a global grant). */
export function holdsGlobally(principal: Principal, permission: Held): boolean {
  return grantsAllow(principal.grants, { permission });
}
