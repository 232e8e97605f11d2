/**
 * The REST face of the Open Inference Protocol v2 on Fastify: health, metadata, inference (JSON
 * and the binary tensor extension), the model repository and statistics extensions, and
 * Prometheus metrics.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';
import { StratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ServingMetrics } from '../../monitor/serving-metrics.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import type { ModelManager } from '../../serving/model-manager.ts';
import { decodeRestInferRequest } from '../../serving/protocol/rest-infer-request.ts';
import { encodeRestInferResponse } from '../../serving/protocol/rest-infer-response.ts';
import { type Authorizer, permissionFor } from '../permissions.ts';
import { normaliseHttpError, sendError } from './error-reply.ts';
import { type ManagementRoutesOptions, registerManagementRoutes } from './management-routes.ts';
import { registerDatasetRoutes } from './dataset-routes.ts';
import { registerRunRoutes } from './run-routes.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  readonly config: Pick<Config, 'bodyLimitBytes' | 'maxBytesElementBytes'>;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  /** The registry's management API (`/api/v1`), when the registry is on. */
  readonly management?: ManagementRoutesOptions;
}

type ModelParams = { model: string; version?: string };

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

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      const permission = permissionFor(method, route.url);
      if (permission === undefined) throw new Error(`route ${method} ${route.url} has no entry in ROUTE_PERMISSIONS`);
      route.config = { ...(route.config as object), permission };
    }
  });
  app.addHook('onRequest', async (request) => {
    const permission = (request.routeOptions.config as { permission?: ReturnType<typeof permissionFor> }).permission;
    if (permission === undefined || permission === 'public') return;
    const model = (request.params as Partial<ModelParams> | undefined)?.model;
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

  app.get('/v2/health/live', async (_req, reply) =>
    reply.code(service.live() ? 200 : 400).send({ live: service.live() }),
  );
  app.get('/v2/health/ready', async (_req, reply) =>
    reply.code(service.ready() ? 200 : 400).send({ ready: service.ready() }),
  );
  app.get('/v2', async () => service.serverMetadata());
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.render();
  });

  app.get('/v2/models/stats', async () => service.statistics());
  const metadata = async (req: FastifyRequest<{ Params: ModelParams }>) =>
    service.modelMetadata(req.params.model, req.params.version);
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const ok = service.modelReady(req.params.model, req.params.version);
    return reply.code(ok ? 200 : 400).send({ name: req.params.model, ready: ok });
  };
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  const stats = async (req: FastifyRequest<{ Params: ModelParams }>) =>
    service.statistics(req.params.model, req.params.version);
  app.get('/v2/models/:model/stats', stats);
  app.get('/v2/models/:model/versions/:version/stats', stats);

  const infer = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new StratumError('BAD_REQUEST', 'the inference request has no body; send JSON with an "inputs" array');
    }
    const rawLength = req.headers['inference-header-content-length'];
    let headerLength: number | undefined;
    if (rawLength !== undefined) {
      headerLength = Number(rawLength);
      if (!Number.isInteger(headerLength) || headerLength < 0) {
        throw new StratumError(
          'BAD_REQUEST',
          `Inference-Header-Content-Length must be a non-negative integer, got "${String(rawLength)}"`,
        );
      }
    }
    const request = decodeRestInferRequest({
      body,
      maxBytesElement: config.maxBytesElementBytes,
      ...(headerLength !== undefined && { headerLength }),
    });
    const response = await service.infer({
      model: req.params.model,
      request,
      protocol: 'rest',
      headers: req.headers,
      ...(req.params.version !== undefined && { version: req.params.version }),
    });
    const encoded = encodeRestInferResponse(response);
    reply.header('content-type', encoded.contentType);
    if (encoded.headerLength !== undefined)
      reply.header('inference-header-content-length', String(encoded.headerLength));
    return reply.send(encoded.body);
  };
  app.post('/v2/models/:model/infer', infer);
  app.post('/v2/models/:model/versions/:version/infer', infer);

  if (options.management !== undefined) {
    registerManagementRoutes(app, options.management);
    registerRunRoutes(app, { store: options.management.registry });
    registerDatasetRoutes(app, { store: options.management.registry });
  }

  app.post('/v2/repository/index', async (req) => {
    const ready = parseIndexBody(req.body);
    const rows = await service.index();
    return ready ? rows.filter((r) => r.state === 'READY') : rows;
  });
  app.post('/v2/repository/models/:model/load', async (req: FastifyRequest<{ Params: ModelParams }>) => {
    await repositoryManager(service, req.params.model).loadModel(req.params.model);
    return {};
  });
  app.post('/v2/repository/models/:model/unload', async (req: FastifyRequest<{ Params: ModelParams }>) => {
    await repositoryManager(service, req.params.model).unloadModel(req.params.model);
    return {};
  });

  return app;
}

/** The folder manager that may load or unload `model`: deployments are managed through the registry API. */
function repositoryManager(service: InferenceService, model: string): ModelManager {
  const manager = service.manager;
  if (manager !== undefined && (manager.knows(model) || !service.has(model))) return manager;
  if (!service.has(model)) throw new StratumError('MODEL_NOT_FOUND', `unknown model "${model}"`);
  throw new StratumError(
    'UNSUPPORTED',
    `"${model}" is a deployment managed by the registry: change it through /api/v1/deployments/${model}`,
  );
}

function parseIndexBody(body: unknown): boolean {
  if (!Buffer.isBuffer(body) || body.length === 0) return false;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new StratumError('INVALID_JSON', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new StratumError('BAD_REQUEST', 'the repository index request must be a JSON object such as {"ready": true}');
  }
  const ready = (json as { ready?: unknown }).ready;
  if (ready !== undefined && typeof ready !== 'boolean') {
    throw new StratumError('BAD_REQUEST', `"ready" must be true or false, got ${JSON.stringify(ready)}`);
  }
  return ready === true;
}
