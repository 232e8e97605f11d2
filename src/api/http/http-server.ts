/**
 * The HTTP server on Fastify: the routes of the route table (the inference protocol, metrics, the
 * OpenAPI document and, with the registry on, the management API), the API reference at `/docs`,
 * one permission hook, error replies, and a shutdown that ends the connections of replies sent
 * while closing.
 */
import fastifySwagger, { type StaticDocumentSpec } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AuditSink } from '../../audit/audit-sink.ts';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Config } from '../../config/index.ts';
import { StratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ServingMetrics } from '../../monitor/serving-metrics.ts';
import type { Tracing } from '../../monitor/tracing.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import { recordDenied } from '../denied-requests.ts';
import type { Authorizer, Permission } from '../permissions.ts';
import { alignedBodyParser } from './aligned-body.ts';
import { DASHBOARD_DIR, isDashboardAsset, registerDashboard } from './dashboard-assets.ts';
import { normaliseHttpError, sendError } from './error-reply.ts';
import { registerRoutes } from './route.ts';
import { createAuditRecorder } from './route-audit.ts';
import type { AsyncInferenceContext, ManagementContext } from './route-context.ts';
import {
  API_REFERENCE_PREFIX,
  MANAGEMENT_ROUTES,
  openApiDocument,
  REFERENCE_ROUTES,
  SERVING_ROUTES,
} from './route-table.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  readonly config: Pick<Config, 'bodyLimitBytes' | 'maxBytesElementBytes'>;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  /** The registry's management API (`/api/v1`), when the registry is on. */
  readonly management?: ManagementContext;
  /** Asynchronous inference (`infer_async`), when the server has a job queue. */
  readonly asyncInference?: AsyncInferenceContext;
  /**
   * Where changes made through the routes are recorded (each mutating route declares its audit).
   * @default not recorded
   */
  readonly audit?: AuditSink;
  /** The built web dashboard, served at `/` with the management API. @default `dist/dashboard` of the package */
  readonly dashboardDir?: string;
  /** Serve HTTPS with these options (`app.server` is then an `https.Server`). Absent: plain HTTP. */
  readonly https?: HttpsServerOptions;
  /** OpenTelemetry tracing, when `tracing.enabled`. */
  readonly tracing?: Tracing;
  /**
   * Take the client's address from `X-Forwarded-For`: only when the app listens on a Unix socket
   * that just this server's front-end processes can reach. @default false
   */
  readonly trustProxy?: boolean;
}

/** How long an idle client connection is kept open (the front ends use the same). */
export const HTTP_KEEP_ALIVE_MS = 65_000;

/** Builds the Fastify app (not yet listening). */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { service, metrics, config, logger, authorizer } = options;
  // With `https` Fastify's instance is typed for an https.Server; routes and hooks are the same.
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: HTTP_KEEP_ALIVE_MS,
    ...(options.trustProxy === true && { trustProxy: true }),
    ...(options.https !== undefined && { https: options.https }),
  }) as unknown as FastifyInstance;

  // Bodies are read as bytes and parsed by the protocol layer: the binary extension puts raw
  // tensor bytes after the JSON, and JSON errors need the protocol's messages.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', alignedBodyParser(config.bodyLimitBytes));

  // Routes come from the route table, each with its permission; anything registered another way
  // has none and would be served unguarded, so it fails here, at start-up. The one exception is
  // the API reference: @fastify/swagger-ui registers its pages and assets without route config,
  // in its own context under /docs, and they are public like the document they render; so are the
  // dashboard's files, served by @fastify/static from the dashboard's folder.
  const dashboardDir = options.dashboardDir ?? DASHBOARD_DIR;
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'HEAD' || m === 'OPTIONS')) return;
    if (permissionOf(route.config) === undefined && (isApiReference(route) || isDashboardAsset(route, dashboardDir))) {
      route.config = { ...route.config, permission: 'public' } as NonNullable<typeof route.config>;
    }
    if (permissionOf(route.config) === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} has no permission: declare it in the route table`);
    }
  });
  // The one access check: the authorizer names the principal (or refuses with 401, 403 or 429);
  // a refusal is recorded in the audit log without waiting for it, and a concurrency slot the
  // caller took is freed when the connection's reply ends, however it ends.
  app.addHook('onRequest', async (request, reply) => {
    const permission = permissionOf(request.routeOptions.config);
    if (permission === undefined || permission === 'public') return;
    const model = (request.params as { model?: string } | undefined)?.model;
    try {
      const granted = await authorizer({ permission, headers: request.headers, ...(model !== undefined && { model }) });
      request.principal = granted.principal;
      if (granted.release !== undefined) reply.raw.once('close', granted.release);
    } catch (error) {
      recordDenied(options.audit, logger, {
        error,
        resource: `${request.method} ${request.url}`,
        source: request.ip,
        requestId: request.id,
      });
      throw error;
    }
  });

  // Fastify's close drops the connections that are idle when it starts; a connection whose
  // request was still running would stay open after its reply, for the client's keep-alive (up
  // to keepAliveTimeout, 65 s), and the shutdown would wait for it. Replies sent while closing
  // therefore end their connection.
  let closing = false;
  const shutdown = new AbortController();
  app.addHook('preClose', (done) => {
    closing = true;
    // Event streams never end by themselves: they end now, or the close would wait for them.
    shutdown.abort();
    done();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.setErrorHandler((error, _request, reply) => sendError(reply, normaliseHttpError(error, config), logger));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new StratumError('NOT_FOUND', `no route ${request.method} ${request.url}`), logger),
  );

  const document = openApiDocument({ management: options.management !== undefined });
  const recorder =
    options.audit === undefined
      ? undefined
      : createAuditRecorder({ sink: options.audit, logger, metrics: metrics.registry });
  const audited = recorder === undefined ? {} : { recorder };
  // Registered as a plugin, like the reference below: Fastify adds them at start-up, after every
  // hook above (and any onRoute hook a caller adds before then) is in place.
  app.register(async (scope) => {
    const asyncInference = options.asyncInference;
    const serving = {
      service,
      metrics,
      config,
      ...(asyncInference !== undefined && { asyncInference }),
      ...(options.tracing !== undefined && { tracing: options.tracing }),
    };
    registerRoutes(scope, { routes: SERVING_ROUTES, context: serving, ...audited });
    registerRoutes(scope, { routes: REFERENCE_ROUTES, context: { document } });
    if (options.management !== undefined) {
      registerRoutes(scope, {
        routes: MANAGEMENT_ROUTES,
        context: {
          ...options.management,
          shutdown: shutdown.signal,
          ...(options.audit !== undefined && { audit: options.audit }),
        },
        ...audited,
      });
    }
  });
  // The reference renders the generated document (static mode: nothing is derived from Fastify's
  // own route schemas); swagger-ui's assets are served from the package, never from a CDN, and its
  // validator badge (which would send the document to validator.swagger.io) is off by default.
  // (Its types know OpenAPI 2 and 3.0 documents; the plugin serves any object as it is.)
  const specification = { document: document as unknown as StaticDocumentSpec['document'] };
  app.register(fastifySwagger, { mode: 'static', specification });
  app.register(fastifySwaggerUi, { routePrefix: API_REFERENCE_PREFIX, theme: { title: 'Stratum API reference' } });
  // The dashboard reads the management API: without the registry there is nothing to show.
  if (options.management !== undefined) registerDashboard(app, { dir: dashboardDir });

  return app;
}

/** Whether a route is one of the API reference's, registered by @fastify/swagger-ui in its own context. */
function isApiReference(route: { readonly prefix: string }): boolean {
  return route.prefix === API_REFERENCE_PREFIX || route.prefix.startsWith(`${API_REFERENCE_PREFIX}/`);
}

function permissionOf(config: unknown): Permission | undefined {
  return (config as { permission?: Permission } | undefined)?.permission;
}
