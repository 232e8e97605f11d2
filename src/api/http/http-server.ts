/**
 * The HTTP server on Fastify: the routes of the route table (the inference protocol, metrics and,
 * with the registry on, the management API), one permission hook, error replies, and a shutdown
 * that ends the connections of replies sent while closing.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../../config/index.ts';
import { StratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ServingMetrics } from '../../monitor/serving-metrics.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import type { Authorizer, Permission } from '../permissions.ts';
import { normaliseHttpError, sendError } from './error-reply.ts';
import { registerRoutes } from './route.ts';
import type { ManagementContext } from './route-context.ts';
import { MANAGEMENT_ROUTES, SERVING_ROUTES } from './route-table.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  readonly config: Pick<Config, 'bodyLimitBytes' | 'maxBytesElementBytes'>;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  /** The registry's management API (`/api/v1`), when the registry is on. */
  readonly management?: ManagementContext;
}

/** Builds the Fastify app (not yet listening). */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { service, metrics, config, logger, authorizer } = options;
  const app: FastifyInstance = Fastify({
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
  });

  // Bodies are read as bytes and parsed by the protocol layer: the binary extension puts raw
  // tensor bytes after the JSON, and JSON errors need the protocol's messages.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Routes come from the route table, each with its permission; anything registered another way
  // has none and would be served unguarded, so it fails here, at start-up.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'HEAD' || m === 'OPTIONS')) return;
    if (permissionOf(route.config) === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} has no permission: declare it in the route table`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const permission = permissionOf(request.routeOptions.config);
    if (permission === undefined || permission === 'public') return;
    const model = (request.params as { model?: string } | undefined)?.model;
    await authorizer({ permission, headers: request.headers, ...(model !== undefined && { model }) });
  });

  // Fastify's close drops the connections that are idle when it starts; a connection whose
  // request was still running would stay open after its reply, for the client's keep-alive (up
  // to keepAliveTimeout, 65 s), and the shutdown would wait for it. Replies sent while closing
  // therefore end their connection.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
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

  registerRoutes(app, { routes: SERVING_ROUTES, context: { service, metrics, config } });
  if (options.management !== undefined) {
    registerRoutes(app, { routes: MANAGEMENT_ROUTES, context: options.management });
  }

  return app;
}

function permissionOf(config: unknown): Permission | undefined {
  return (config as { permission?: Permission } | undefined)?.permission;
}
