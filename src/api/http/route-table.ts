/**
 * Every HTTP route, in one list built from the route modules, and what is derived from it: the
 * permission table (enumerable: `{ method, path, permission }` per route) and the OpenAPI document
 * of the management API. The server registers exactly these routes; a route registered any other
 * way has no permission and fails at start-up.
 */
import { DATASET_ROUTES } from './dataset-routes.ts';
import { DEPLOYMENT_ROUTES } from './deployment-routes.ts';
import { ALIAS_ROUTES, MODEL_ROUTES, VERSION_ROUTES } from './model-routes.ts';
import { buildOpenApiDocument } from './openapi.ts';
import type { Permission } from '../permissions.ts';
import { type HttpMethod, type HttpRoute, type RouteInfo, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';
import { RUN_ROUTES } from './run-routes.ts';
import { SERVING_ROUTES } from './serving-routes.ts';

export { SERVING_ROUTES } from './serving-routes.ts';

let document: Record<string, unknown> | undefined;

/** The management API (`/api/v1`), registered when the registry is on; the OpenAPI document describes exactly these. */
export const MANAGEMENT_ROUTES: readonly HttpRoute<ManagementContext>[] = Object.freeze([
  routeFactory<ManagementContext>()({
    method: 'GET',
    path: '/api/v1/openapi.json',
    permission: 'public',
    summary: 'This document',
    tags: ['meta'],
    handler: () => (document ??= buildOpenApiDocument({ routes: MANAGEMENT_ROUTES })),
  }),
  ...MODEL_ROUTES,
  ...VERSION_ROUTES,
  ...ALIAS_ROUTES,
  ...DEPLOYMENT_ROUTES,
  ...DATASET_ROUTES,
  ...RUN_ROUTES,
]);

/** Every HTTP route the server can register. */
export const HTTP_ROUTES: readonly RouteInfo[] = Object.freeze([...SERVING_ROUTES, ...MANAGEMENT_ROUTES]);

/** One row of the permission table. */
export interface RoutePermission {
  readonly method: HttpMethod;
  /** Fastify syntax: `/v2/models/:model/infer`. */
  readonly path: string;
  readonly permission: Permission;
}

/** The permission table, one row per route, for walking every route (× role). */
export const ROUTE_TABLE: readonly RoutePermission[] = Object.freeze(
  HTTP_ROUTES.map(({ method, path, permission }) => Object.freeze({ method, path, permission })),
);

/** The same table keyed `METHOD path`. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission>> = Object.freeze(
  Object.fromEntries(ROUTE_TABLE.map((r) => [`${r.method} ${r.path}`, r.permission])),
);

/** The permission of a route, or undefined when there is no such route. */
export function permissionFor(method: string, path: string): Permission | undefined {
  return ROUTE_PERMISSIONS[`${method} ${path}`];
}
