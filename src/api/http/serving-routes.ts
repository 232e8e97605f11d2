/**
 * The REST face of the Open Inference Protocol v2: health, metadata, inference (JSON and the
 * binary tensor extension), the model repository and statistics extensions, and Prometheus
 * metrics. One declaration per route (see `route.ts`).
 */
import type { FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { StratumError } from '../../errors/index.ts';
import type { RequestTrace } from '../../monitor/request-trace.ts';
import type { InferenceService, InferOptions } from '../../serving/inference-service.ts';
import type { ModelManager } from '../../serving/model-manager.ts';
import type { InferRequest, InferResponse } from '../../serving/types.ts';
import { encodeRestInferResponse } from '../../serving/protocol/rest-infer-response.ts';
import {
  InferReply,
  InferRequestBody,
  LiveReply,
  ModelMetadataReply,
  ModelReadyReply,
  ReadyReply,
  RepositoryIndexBody,
  RepositoryIndexReply,
  ServerMetadataReply,
  StatisticsReply,
} from './inference-schemas.ts';
import { OipModelParams, OipVersionParams } from './management-schemas.ts';
import { explain, EXPLAIN_ERRORS, ExplainReply } from './explain-route.ts';
import { readInferBody } from './infer-body.ts';
import { inferAsync, INFER_ASYNC_ERRORS, InferAsyncReply } from './infer-async-route.ts';
import { type HttpRoute, type RouteInput, routeFactory } from './route.ts';
import type { ServingContext } from './route-context.ts';

const route = routeFactory<ServingContext>();

type ModelParams = { model: string; version?: string };

const metadata = ({ params }: { params: ModelParams }, { service }: ServingContext) =>
  service.modelMetadata(params.model, params.version);

const ready = ({ params, reply }: { params: ModelParams; reply: FastifyReply }, { service }: ServingContext) => {
  const ok = service.modelReady(params.model, params.version);
  return reply.code(ok ? 200 : 400).send({ name: params.model, ready: ok });
};

const stats = ({ params }: { params: ModelParams }, { service }: ServingContext) =>
  service.statistics(params.model, params.version);

/** The permission of the inference routes, whatever carries the request (Fastify or a front end). */
export const INFER_PERMISSION = 'models:infer' as const;

async function infer(input: RouteInput<ModelParams, undefined, Buffer | undefined>, context: ServingContext) {
  const { params, body, request, reply } = input;
  const response = await runRestInfer(
    {
      model: params.model,
      version: params.version,
      headers: request.headers,
      url: request.url,
      decode: () => readInferBody(body, request, context.config).decoded,
    },
    context,
    (traceparent) => reply.header('traceparent', traceparent),
  );
  const encoded = encodeRestInferResponse(response);
  reply.header('content-type', encoded.contentType);
  if (encoded.headerLength !== undefined) reply.header('inference-header-content-length', String(encoded.headerLength));
  return reply.send(encoded.body);
}

/** One REST inference, wherever its body was read and decoded. */
export interface RestInferCall {
  readonly model: string;
  readonly version?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly url: string;
  /** Decodes the body; called inside the request's span, so a decoding error is traced too. */
  readonly decode: () => InferRequest;
}

/**
 * Runs a REST inference, traced when tracing is on: the span starts before the body is decoded and
 * `onTraceparent` hears the reply's `traceparent` before anything can fail. The server's own HTTP
 * route and the front-end processes' calls both come through here.
 */
export async function runRestInfer(
  call: RestInferCall,
  { service, tracing }: Pick<ServingContext, 'service' | 'tracing'>,
  onTraceparent: (traceparent: string) => void,
): Promise<InferResponse> {
  if (tracing === undefined) return inferDecoded(call, service);
  const started = tracing.startRequest({
    name: `POST /v2/models/{model}${call.version === undefined ? '' : '/versions/{version}'}/infer`,
    headers: call.headers,
    attributes: { 'http.request.method': 'POST', 'url.path': call.url, 'stratum.model': call.model },
  });
  onTraceparent(started.traceparent);
  if (started.trace === undefined) return inferDecoded(call, service);
  try {
    const response = await inferDecoded(call, service, started.trace);
    started.trace.end();
    return response;
  } catch (error) {
    started.trace.end(error);
    throw error;
  }
}

function inferDecoded(call: RestInferCall, service: InferenceService, trace?: RequestTrace): Promise<InferResponse> {
  // No spreads on the hot path: one object, and a second only when the request is traced.
  const options: InferOptions = {
    model: call.model,
    version: call.version,
    request: call.decode(),
    protocol: 'rest',
    headers: call.headers,
  };
  return service.infer(trace === undefined ? options : { ...options, trace });
}

const INFER_BODY = {
  raw: 'application/json',
  description: 'The inference request; with the binary tensor extension, raw tensor bytes follow the JSON',
  schema: InferRequestBody,
};

const UNKNOWN_MODEL = ['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND'] as const;
const INFER_ERRORS = [
  'BAD_REQUEST',
  'INVALID_JSON',
  'INVALID_INPUT',
  'INVALID_PARAMETER',
  ...UNKNOWN_MODEL,
  'BODY_TOO_LARGE',
  'UNSUPPORTED',
  'MODEL_NOT_READY',
  'QUEUE_FULL',
  'QUEUE_TIMEOUT',
] as const;

/** Every route of the inference protocol, metrics and health. */
export const SERVING_ROUTES: readonly HttpRoute<ServingContext>[] = [
  route({
    method: 'GET',
    path: '/v2/health/live',
    permission: 'public',
    summary: 'Whether the server is live',
    tags: ['health'],
    reply: LiveReply,
    handler: ({ reply }, { service }) => reply.code(service.live() ? 200 : 400).send({ live: service.live() }),
  }),
  route({
    method: 'GET',
    path: '/v2/health/ready',
    permission: 'public',
    summary: 'Whether the server is ready to serve',
    tags: ['health'],
    reply: ReadyReply,
    handler: ({ reply }, { service }) => reply.code(service.ready() ? 200 : 400).send({ ready: service.ready() }),
  }),
  route({
    method: 'GET',
    path: '/v2',
    permission: 'public',
    summary: 'Server metadata: name, version, extensions',
    tags: ['health'],
    reply: ServerMetadataReply,
    handler: (_input, { service }) => service.serverMetadata(),
  }),
  route({
    method: 'GET',
    path: '/metrics',
    permission: 'metrics:read',
    summary: 'Prometheus metrics (text exposition format)',
    tags: ['metrics'],
    handler: ({ reply }, { metrics }) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.render();
    },
  }),
  route({
    method: 'GET',
    path: '/v2/models/stats',
    permission: 'models:read',
    summary: 'Statistics of every model',
    tags: ['statistics'],
    reply: StatisticsReply,
    handler: (_input, { service }) => service.statistics(),
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model',
    permission: 'models:read',
    summary: 'Model metadata',
    tags: ['inference'],
    params: OipModelParams,
    reply: ModelMetadataReply,
    errors: UNKNOWN_MODEL,
    handler: metadata,
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model/versions/:version',
    permission: 'models:read',
    summary: 'Model version metadata',
    tags: ['inference'],
    params: OipVersionParams,
    reply: ModelMetadataReply,
    errors: UNKNOWN_MODEL,
    handler: metadata,
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model/ready',
    permission: 'models:read',
    summary: 'Whether a model is ready (400 when not)',
    tags: ['inference'],
    params: OipModelParams,
    reply: ModelReadyReply,
    errors: UNKNOWN_MODEL,
    handler: ready,
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model/versions/:version/ready',
    permission: 'models:read',
    summary: 'Whether a model version is ready (400 when not)',
    tags: ['inference'],
    params: OipVersionParams,
    reply: ModelReadyReply,
    errors: UNKNOWN_MODEL,
    handler: ready,
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model/stats',
    permission: 'models:read',
    summary: 'Statistics of a model',
    tags: ['statistics'],
    params: OipModelParams,
    reply: StatisticsReply,
    errors: UNKNOWN_MODEL,
    handler: stats,
  }),
  route({
    method: 'GET',
    path: '/v2/models/:model/versions/:version/stats',
    permission: 'models:read',
    summary: 'Statistics of a model version',
    tags: ['statistics'],
    params: OipVersionParams,
    reply: StatisticsReply,
    errors: UNKNOWN_MODEL,
    handler: stats,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/infer',
    audit: false,
    permission: INFER_PERMISSION,
    summary: 'Run an inference request',
    tags: ['inference'],
    params: OipModelParams,
    body: INFER_BODY,
    reply: InferReply,
    errors: INFER_ERRORS,
    binaryTensors: true,
    handler: infer,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/versions/:version/infer',
    audit: false,
    permission: INFER_PERMISSION,
    summary: 'Run an inference request on a model version',
    tags: ['inference'],
    params: OipVersionParams,
    body: INFER_BODY,
    reply: InferReply,
    errors: INFER_ERRORS,
    binaryTensors: true,
    handler: infer,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/explain',
    permission: 'models:infer',
    audit: false,
    summary: 'Explain an inference request: exact SHAP values per raw input column',
    tags: ['inference'],
    params: OipModelParams,
    body: INFER_BODY,
    reply: ExplainReply,
    errors: EXPLAIN_ERRORS,
    binaryTensors: true,
    handler: explain,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/versions/:version/explain',
    permission: 'models:infer',
    audit: false,
    summary: 'Explain an inference request on a model version: exact SHAP values per raw input column',
    tags: ['inference'],
    params: OipVersionParams,
    body: INFER_BODY,
    reply: ExplainReply,
    errors: EXPLAIN_ERRORS,
    binaryTensors: true,
    handler: explain,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/infer_async',
    audit: false,
    permission: 'models:infer',
    summary: 'Queue an inference request: 202 with the job (status and result at /api/v1/jobs/{id})',
    tags: ['inference'],
    params: OipModelParams,
    body: INFER_BODY,
    reply: InferAsyncReply,
    status: 202,
    errors: INFER_ASYNC_ERRORS,
    binaryTensors: true,
    handler: inferAsync,
  }),
  route({
    method: 'POST',
    path: '/v2/models/:model/versions/:version/infer_async',
    audit: false,
    permission: 'models:infer',
    summary: 'Queue an inference request on a model version: 202 with the job',
    tags: ['inference'],
    params: OipVersionParams,
    body: INFER_BODY,
    reply: InferAsyncReply,
    status: 202,
    errors: INFER_ASYNC_ERRORS,
    binaryTensors: true,
    handler: inferAsync,
  }),
  route({
    method: 'POST',
    path: '/v2/repository/index',
    audit: false,
    permission: 'repository:read',
    summary: 'The models of the repository and their state ({"ready": true}: only the ready ones)',
    tags: ['repository'],
    body: { raw: 'application/json', schema: RepositoryIndexBody, optional: true },
    reply: RepositoryIndexReply,
    errors: ['BAD_REQUEST', 'INVALID_JSON'],
    handler: async ({ body }, { service }) => {
      const onlyReady = parseIndexBody(body);
      const rows = await service.index();
      return onlyReady ? rows.filter((r) => r.state === 'READY') : rows;
    },
  }),
  route({
    method: 'POST',
    path: '/v2/repository/models/:model/load',
    audit: { action: 'repository.load', resource: ({ params }) => `repository/models/${params.model}` },
    permission: 'repository:write',
    summary: 'Load a model of the repository folder',
    tags: ['repository'],
    params: OipModelParams,
    errors: ['MODEL_NOT_FOUND', 'INVALID_MODEL', 'UNSUPPORTED'],
    handler: async ({ params }, { service }) => {
      await repositoryManager(service, params.model).loadModel(params.model);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: '/v2/repository/models/:model/unload',
    audit: { action: 'repository.unload', resource: ({ params }) => `repository/models/${params.model}` },
    permission: 'repository:write',
    summary: 'Unload a model of the repository folder',
    tags: ['repository'],
    params: OipModelParams,
    errors: ['MODEL_NOT_FOUND', 'UNSUPPORTED'],
    handler: async ({ params }, { service }) => {
      await repositoryManager(service, params.model).unloadModel(params.model);
      return {};
    },
  }),
];

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

function parseIndexBody(body: Buffer | undefined): boolean {
  if (body === undefined || body.length === 0) return false;
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
