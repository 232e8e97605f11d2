/**
 * The OpenAPI 3.1 document of the HTTP API — the Open Inference Protocol (`/v2`), metrics and the
 * management API (`/api/v1`) — served at `/api/v1/openapi.json` and rendered at `/docs`, generated
 * from the route declarations (`route.ts`): paths and methods, path parameters, query parameters
 * and request bodies from the same zod schemas the routes validate with (or, for bodies the
 * inference path reads itself, the schemas that describe them), success status, ETag headers, the
 * binary tensor extension, the permission, and the error statuses each route declares.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../errors/codes.ts';
import { DeploymentSpecSchema, RolloutRequestSchema } from '../../registry/deployment-spec.ts';
import { STRATUM_VERSION } from '../../version.ts';
import { LineageSchema, MetricsSchema } from './management-schemas.ts';
import { documentationOf, isRaw, type RouteInfo, type RouteTag } from './route.ts';

/** The sections of the API reference, in order; each tag belongs to one. */
const TAG_GROUPS = ['Open Inference Protocol (/v2)', 'Monitoring', 'Management API (/api/v1)', 'Reference'] as const;

/** What the reference says about each tag; a new tag without an entry does not compile. */
const TAGS: Readonly<Record<RouteTag, { readonly group: (typeof TAG_GROUPS)[number]; readonly description: string }>> =
  {
    health: {
      group: 'Open Inference Protocol (/v2)',
      description: 'Server liveness, readiness and metadata (KServe v2 REST)',
    },
    inference: {
      group: 'Open Inference Protocol (/v2)',
      description: 'Model metadata, readiness and inference, JSON or the binary tensor data extension',
    },
    repository: {
      group: 'Open Inference Protocol (/v2)',
      description: 'The model repository extension: the index, and loading models of the --models folder',
    },
    statistics: { group: 'Open Inference Protocol (/v2)', description: 'The statistics extension (Triton-shaped)' },
    metrics: { group: 'Monitoring', description: 'Prometheus metrics' },
    reference: { group: 'Reference', description: 'This document (browsable at /docs)' },
    models: { group: 'Management API (/api/v1)', description: 'Registered models' },
    versions: { group: 'Management API (/api/v1)', description: 'Model versions, their artifacts and lineage' },
    aliases: { group: 'Management API (/api/v1)', description: 'Named pointers to versions, moved with If-Match' },
    deployments: { group: 'Management API (/api/v1)', description: 'Served endpoints, routes and rollouts' },
    runs: { group: 'Management API (/api/v1)', description: 'Tracked training runs and their metrics' },
    experiments: {
      group: 'Management API (/api/v1)',
      description: 'Hyper-parameter tuning experiments, their trials and rung results',
    },
    datasets: { group: 'Management API (/api/v1)', description: 'Dataset versions and profiles' },
    pipelines: {
      group: 'Management API (/api/v1)',
      description: 'Retraining pipelines (ingest, train, evaluate, gate, canary, promote) and their runs',
    },
    jobs: {
      group: 'Management API (/api/v1)',
      description: 'Queued work (training, batch inference, tuning): submit, follow, cancel, retry',
    },
    keys: {
      group: 'Management API (/api/v1)',
      description: 'API keys: issued once with their roles, listed without secrets, revoked (admin only)',
    },
    meta: { group: 'Management API (/api/v1)', description: 'Housekeeping' },
    audit: {
      group: 'Management API (/api/v1)',
      description: 'The hash-chained audit log: who changed what, when, from where, before and after',
    },
  };

/** Options of {@link buildOpenApiDocument}. */
export interface OpenApiOptions {
  /** The routes to document. */
  readonly routes: readonly RouteInfo[];
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const documented = documentationOf(schema);
  const json: Record<string, unknown> = { ...z.toJSONSchema(documented, { io: 'input', unrepresentable: 'any' }) };
  // The document states its dialect once (OpenAPI 3.1 is JSON Schema 2020-12).
  delete json['$schema'];
  return json;
}

// The binary tensor data extension: a JSON header, then raw tensor bytes; the header's length
// travels in Inference-Header-Content-Length, on the request and on the reply.
const BINARY_HEADER_SCHEMA = {
  description: 'Binary tensor extension: the length of the JSON header that starts the body',
  schema: { type: 'integer', minimum: 0 },
};
const BINARY_HEADER = {
  name: 'Inference-Header-Content-Length',
  in: 'header',
  required: false,
  ...BINARY_HEADER_SCHEMA,
};
const BINARY_CONTENT = {
  schema: {
    type: 'string',
    format: 'binary',
    description: 'The JSON header (its length in Inference-Header-Content-Length), then the raw tensor bytes in order',
  },
};

function operation(route: RouteInfo): Record<string, unknown> {
  const pathParams = Object.entries(route.params?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema as z.ZodType),
  }));
  const headers = [
    ...(route.etag && route.method !== 'GET'
      ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }]
      : []),
    ...(route.binaryTensors ? [BINARY_HEADER] : []),
  ];
  const replyContent: Record<string, unknown> = {
    ...(route.reply !== undefined && { 'application/json': { schema: jsonSchema(route.reply) } }),
    ...(route.binaryTensors && { 'application/octet-stream': BINARY_CONTENT }),
  };
  const replyHeaders = {
    ...(route.etag && { ETag: { schema: { type: 'string' }, description: 'The revision, for If-Match' } }),
    ...(route.binaryTensors && { 'Inference-Header-Content-Length': BINARY_HEADER_SCHEMA }),
  };
  const responses: Record<string, unknown> = {
    [String(route.status ?? 200)]: {
      description: 'OK',
      ...(Object.keys(replyHeaders).length > 0 && { headers: replyHeaders }),
      ...(Object.keys(replyContent).length > 0 && { content: replyContent }),
    },
  };
  const byStatus = new Map<string, string[]>();
  for (const code of route.errors ?? []) {
    const status = String(ERROR_CODES[code].http);
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${code}: ${ERROR_CODES[code].summary}`]);
  }
  for (const [status, lines] of byStatus) {
    responses[status] ??= {
      description: lines.join(' · '),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const body = requestBody(route);
  return {
    summary: route.summary,
    tags: route.tags,
    'x-permission': route.permission,
    parameters: [...pathParams, ...headers, ...(route.query ? queryParameters(route.query) : [])],
    ...(body !== undefined && { requestBody: body }),
    responses,
  };
}

function requestBody(route: RouteInfo): Record<string, unknown> | undefined {
  const body = route.body;
  if (body === undefined) return undefined;
  if (!isRaw(body)) {
    return { required: route.method !== 'DELETE', content: { 'application/json': { schema: jsonSchema(body) } } };
  }
  return {
    required: body.optional !== true,
    ...(body.description !== undefined && { description: body.description }),
    content: {
      [body.raw]: {
        schema: body.schema === undefined ? { type: 'string', format: 'binary' } : jsonSchema(body.schema),
      },
      ...(route.binaryTensors && { 'application/octet-stream': BINARY_CONTENT }),
    },
  };
}

function queryParameters(schema: z.ZodObject): unknown[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: false,
    schema: jsonSchema(field as z.ZodType),
  }));
}

/** Builds the document of `routes`. */
export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of options.routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  const used = new Set(options.routes.flatMap((route) => route.tags));
  const tags = Object.entries(TAGS).filter(([name]) => used.has(name as RouteTag));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stratum HTTP API',
      version: STRATUM_VERSION,
      description:
        'The Open Inference Protocol (KServe v2 REST) with the binary tensor data, model repository and statistics extensions; Prometheus metrics; and, with the registry on, the management API. Errors are {"error": message, "code": CODE}; x-permission names what a caller needs.',
    },
    tags: TAG_GROUPS.flatMap((group) =>
      tags.filter(([, tag]) => tag.group === group).map(([name, tag]) => ({ name, description: tag.description })),
    ),
    // Redoc and other renderers show sections by these groups; Swagger UI lists the tags in order.
    'x-tagGroups': TAG_GROUPS.map((name) => ({
      name,
      tags: tags.filter(([, tag]) => tag.group === name).map(([tag]) => tag),
    })).filter((group) => group.tags.length > 0),
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'string' }, code: { type: 'string', enum: Object.keys(ERROR_CODES) } },
          required: ['error'],
        },
        DeploymentSpec: jsonSchema(DeploymentSpecSchema),
        RolloutRequest: jsonSchema(RolloutRequestSchema),
        Metrics: jsonSchema(MetricsSchema),
        Lineage: jsonSchema(LineageSchema),
      },
    },
  };
}
