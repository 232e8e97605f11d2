/**
 * The OpenAPI 3.1 document of the management API, served at `/api/v1/openapi.json`, generated from
 * the route declarations (`route.ts`): paths and methods, path parameters, query parameters and
 * request bodies from the same zod schemas the routes validate with, success status, ETag headers,
 * and the error statuses each route declares.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../errors/codes.ts';
import { DeploymentSpecSchema, RolloutRequestSchema } from '../../registry/deployment-spec.ts';
import { STRATUM_VERSION } from '../../version.ts';
import { LineageSchema, MetricsSchema } from './management-schemas.ts';
import { documentationOf, isRaw, type RouteInfo } from './route.ts';

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

function operation(route: RouteInfo): Record<string, unknown> {
  const pathParams = Object.entries(route.params?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema as z.ZodType),
  }));
  const headers =
    route.etag && route.method !== 'GET'
      ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }]
      : [];
  const body =
    route.body === undefined
      ? undefined
      : isRaw(route.body)
        ? {
            required: true,
            ...(route.body.description !== undefined && { description: route.body.description }),
            content: { [route.body.raw]: { schema: { type: 'string', format: 'binary' } } },
          }
        : {
            required: route.method !== 'DELETE',
            content: { 'application/json': { schema: jsonSchema(route.body) } },
          };
  const responses: Record<string, unknown> = {
    [String(route.status ?? 200)]: {
      description: 'OK',
      ...(route.etag && {
        headers: { ETag: { schema: { type: 'string' }, description: 'The revision, for If-Match' } },
      }),
      ...(route.reply !== undefined && { content: { 'application/json': { schema: jsonSchema(route.reply) } } }),
    },
  };
  for (const code of route.errors ?? []) {
    const status = String(ERROR_CODES[code].http);
    responses[status] ??= {
      description: ERROR_CODES[code].summary,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    summary: route.summary,
    tags: route.tags,
    parameters: [...pathParams, ...headers, ...(route.query ? queryParameters(route.query) : [])],
    ...(body !== undefined && { requestBody: body }),
    responses,
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
  return {
    openapi: '3.1.0',
    info: { title: 'Stratum management API', version: STRATUM_VERSION },
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
