/**
 * Every HTTP route, in one list built from the route modules, and what is derived from it: the
 * permission table (enumerable: `{ method, path, permission }` per route) and the OpenAPI document
 * of the routes a server registers. The server registers exactly these routes, plus the API
 * reference at `/docs` (`@fastify/swagger-ui`, public like the document it renders); a route
 * registered any other way has no permission and fails at start-up.
 */
import { ALERT_ROUTES } from './alert-routes.ts';
import { AUDIT_ROUTES } from './audit-routes.ts';
import { CARD_ROUTES } from './card-routes.ts';
import { DATASET_ROUTES } from './dataset-routes.ts';
import { DEPLOYMENT_ROUTES } from './deployment-routes.ts';
import { DRIFT_ROUTES } from './drift-routes.ts';
import { JOB_ROUTES } from './job-routes.ts';
import { KEY_ROUTES } from './key-routes.ts';
import { EXPERIMENT_ROUTES } from './experiment-routes.ts';
import { FEEDBACK_ROUTES } from './feedback-routes.ts';
import { ALIAS_ROUTES, MODEL_ROUTES, VERSION_ROUTES } from './model-routes.ts';
import { buildOpenApiDocument } from './openapi.ts';
import type { Permission } from '../permissions.ts';
import { type HttpMethod, type HttpRoute, type RouteInfo, routeFactory } from './route.ts';
import type { ManagementContext, ReferenceContext } from './route-context.ts';
import { PIPELINE_ROUTES } from './pipeline-routes.ts';
import { RUN_ROUTES } from './run-routes.ts';
import { SERVING_ROUTES } from './serving-routes.ts';
import { STATS_ROUTES } from './stats-routes.ts';

export { SERVING_ROUTES } from './serving-routes.ts';

/** The management API (`/api/v1`), registered when the registry is on. */
export const MANAGEMENT_ROUTES: readonly HttpRoute<ManagementContext>[] = Object.freeze([
  ...MODEL_ROUTES,
  ...VERSION_ROUTES,
  ...CARD_ROUTES,
  ...ALIAS_ROUTES,
  ...DEPLOYMENT_ROUTES,
  ...DRIFT_ROUTES,
  ...DATASET_ROUTES,
  ...RUN_ROUTES,
  ...JOB_ROUTES,
  ...EXPERIMENT_ROUTES,
  ...AUDIT_ROUTES,
  ...ALERT_ROUTES,
  ...PIPELINE_ROUTES,
  ...STATS_ROUTES,
  ...FEEDBACK_ROUTES,
  ...KEY_ROUTES,
]);

/** The OpenAPI document, always registered: it describes whichever routes the server serves. */
export const REFERENCE_ROUTES: readonly HttpRoute<ReferenceContext>[] = Object.freeze([
  routeFactory<ReferenceContext>()({
    method: 'GET',
    path: '/api/v1/openapi.json',
    permission: 'public',
    summary: 'This document (rendered at /docs)',
    tags: ['reference'],
    handler: (_input, { document }) => document,
  }),
]);

/** Where the API reference (`@fastify/swagger-ui`) is served; its routes are public, like the document. */
export const API_REFERENCE_PREFIX = '/docs';

/** Every HTTP route the server can register. */
export const HTTP_ROUTES: readonly RouteInfo[] = Object.freeze([
  ...SERVING_ROUTES,
  ...REFERENCE_ROUTES,
  ...MANAGEMENT_ROUTES,
]);

const SERVED: Readonly<Record<'withRegistry' | 'alone', readonly RouteInfo[]>> = Object.freeze({
  withRegistry: HTTP_ROUTES,
  alone: Object.freeze([...SERVING_ROUTES, ...REFERENCE_ROUTES]),
});

/** The routes a server registers: the serving routes and the document, and with the registry the management API. */
export function servedRoutes(options: { readonly management: boolean }): readonly RouteInfo[] {
  return options.management ? SERVED.withRegistry : SERVED.alone;
}

// Built at most once per route set (z.toJSONSchema over every schema takes tens of milliseconds)
// and shared by every server of the process: a pure function of constant declarations.
const DOCUMENTS = new WeakMap<readonly RouteInfo[], Readonly<Record<string, unknown>>>();

/** The OpenAPI document of the routes a server with (or without) the registry registers. */
export function openApiDocument(options: { readonly management: boolean }): Readonly<Record<string, unknown>> {
  const routes = servedRoutes(options);
  let document = DOCUMENTS.get(routes);
  if (document === undefined) {
    document = buildOpenApiDocument({ routes });
    DOCUMENTS.set(routes, document);
  }
  return document;
}

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
