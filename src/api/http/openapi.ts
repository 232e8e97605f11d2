/**
 * The OpenAPI 3.1 document of the management API, served at `/api/v1/openapi.json`. Request
 * schemas are generated from the same zod schemas the routes validate with; a test checks that
 * every `/api/v1` route is documented and every documented route exists.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../errors/codes.ts';
import { DeploymentSpecSchema, RolloutRequestSchema } from '../../registry/deployment-spec.ts';
import { STRATUM_VERSION } from '../../version.ts';
import {
  AbortBody,
  AliasBody,
  CreateModelBody,
  CreateRunBody,
  FinishRunBody,
  DeleteReasonBody,
  DeploymentsQuery,
  GcBody,
  LineageSchema,
  MetricsSchema,
  ModelsQuery,
  PageOnlyQuery,
  PatchModelBody,
  PatchVersionBody,
  PushQuery,
  RunMetricsBody,
  RunMetricsQuery,
  RunsQuery,
  DatasetVersionsQuery,
  VersionsQuery,
} from './management-schemas.ts';

interface Operation {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly summary: string;
  readonly tag: 'models' | 'versions' | 'aliases' | 'deployments' | 'runs' | 'datasets' | 'meta';
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType | 'onnx';
  readonly status: number;
  /** Takes If-Match (optimistic concurrency) and returns an ETag. */
  readonly etag?: boolean;
  readonly errors: readonly (keyof typeof ERROR_CODES)[];
}

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE'] as const;

/** Every operation of `/api/v1`. */
export const MANAGEMENT_OPERATIONS: readonly Operation[] = Object.freeze([
  { method: 'get', path: '/api/v1/openapi.json', summary: 'This document', tag: 'meta', status: 200, errors: [] },
  {
    method: 'get',
    path: '/api/v1/models',
    summary: 'List models',
    tag: 'models',
    query: ModelsQuery,
    status: 200,
    errors: COMMON,
  },
  {
    method: 'post',
    path: '/api/v1/models',
    summary: 'Create a model',
    tag: 'models',
    body: CreateModelBody,
    status: 201,
    errors: [...COMMON, 'ALREADY_EXISTS'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}',
    summary: 'Show a model',
    tag: 'models',
    status: 200,
    errors: ['MODEL_NOT_FOUND'],
  },
  {
    method: 'patch',
    path: '/api/v1/models/{model}',
    summary: "Change a model's description or tags",
    tag: 'models',
    body: PatchModelBody,
    status: 200,
    errors: [...COMMON, 'MODEL_NOT_FOUND'],
  },
  {
    method: 'delete',
    path: '/api/v1/models/{model}',
    summary: 'Delete a model without versions',
    tag: 'models',
    status: 204,
    errors: ['MODEL_NOT_FOUND', 'IN_USE'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/versions',
    summary: 'List versions, newest first',
    tag: 'versions',
    query: VersionsQuery,
    status: 200,
    errors: [...COMMON, 'MODEL_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/models/{model}/versions',
    summary: 'Register a new version: the body is the ONNX file (creates the model if needed)',
    tag: 'versions',
    query: PushQuery,
    body: 'onnx',
    status: 201,
    errors: [...COMMON, 'INVALID_MODEL', 'BODY_TOO_LARGE'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/versions/{version}',
    summary: 'Show a version',
    tag: 'versions',
    status: 200,
    errors: ['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND'],
  },
  {
    method: 'patch',
    path: '/api/v1/models/{model}/versions/{version}',
    summary: "Change a version's status, tags or description (its artifact, signature and metrics never change)",
    tag: 'versions',
    body: PatchVersionBody,
    status: 200,
    errors: [...COMMON, 'VERSION_NOT_FOUND'],
  },
  {
    method: 'delete',
    path: '/api/v1/models/{model}/versions/{version}',
    summary: 'Delete a version no alias or deployment uses',
    tag: 'versions',
    status: 204,
    errors: ['VERSION_NOT_FOUND', 'IN_USE'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/versions/{version}/artifact',
    summary: "Download the version's ONNX file (verified against its sha256)",
    tag: 'versions',
    status: 200,
    errors: ['VERSION_NOT_FOUND', 'ARTIFACT_CORRUPT'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/aliases',
    summary: "List a model's aliases",
    tag: 'aliases',
    status: 200,
    errors: ['MODEL_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/aliases/{alias}',
    summary: 'Show an alias (with its ETag)',
    tag: 'aliases',
    status: 200,
    etag: true,
    errors: ['ALIAS_NOT_FOUND'],
  },
  {
    method: 'put',
    path: '/api/v1/models/{model}/aliases/{alias}',
    summary: 'Create or move an alias (If-Match: the ETag read; If-None-Match: * to create only)',
    tag: 'aliases',
    body: AliasBody,
    status: 200,
    etag: true,
    errors: [...COMMON, 'VERSION_NOT_FOUND', 'PRECONDITION_FAILED', 'SIGNATURE_MISMATCH'],
  },
  {
    method: 'delete',
    path: '/api/v1/models/{model}/aliases/{alias}',
    summary: 'Delete an alias no deployment routes through',
    tag: 'aliases',
    body: DeleteReasonBody,
    status: 204,
    etag: true,
    errors: ['ALIAS_NOT_FOUND', 'IN_USE', 'PRECONDITION_FAILED'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/aliases/{alias}/history',
    summary: 'Every move of an alias, newest first',
    tag: 'aliases',
    query: PageOnlyQuery,
    status: 200,
    errors: ['MODEL_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/alias-history',
    summary: 'Every move of every alias of a model, newest first',
    tag: 'aliases',
    query: PageOnlyQuery,
    status: 200,
    errors: ['MODEL_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/artifacts/gc',
    summary: 'Remove artifacts no version refers to (older than the grace period)',
    tag: 'meta',
    body: GcBody,
    status: 200,
    errors: COMMON,
  },
  {
    method: 'get',
    path: '/api/v1/deployments',
    summary: 'List deployments',
    tag: 'deployments',
    query: DeploymentsQuery,
    status: 200,
    errors: COMMON,
  },
  {
    method: 'post',
    path: '/api/v1/deployments',
    summary: 'Create a deployment: {"name": …, …spec}',
    tag: 'deployments',
    body: DeploymentSpecSchema.extend({ name: z.string() }).partial({ model: true }),
    status: 201,
    etag: true,
    errors: [
      ...COMMON,
      'ALREADY_EXISTS',
      'MODEL_NOT_FOUND',
      'VERSION_NOT_FOUND',
      'ALIAS_NOT_FOUND',
      'SIGNATURE_MISMATCH',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/deployments/{name}',
    summary: 'Show a deployment (with its ETag)',
    tag: 'deployments',
    status: 200,
    etag: true,
    errors: ['DEPLOYMENT_NOT_FOUND'],
  },
  {
    method: 'put',
    path: '/api/v1/deployments/{name}',
    summary: "Replace a deployment's spec",
    tag: 'deployments',
    body: DeploymentSpecSchema.partial({ model: true }),
    status: 200,
    etag: true,
    errors: [...COMMON, 'DEPLOYMENT_NOT_FOUND', 'PRECONDITION_FAILED', 'SIGNATURE_MISMATCH', 'ROLLOUT_CONFLICT'],
  },
  {
    method: 'delete',
    path: '/api/v1/deployments/{name}',
    summary: 'Delete a deployment',
    tag: 'deployments',
    status: 204,
    etag: true,
    errors: ['DEPLOYMENT_NOT_FOUND', 'PRECONDITION_FAILED'],
  },
  {
    method: 'get',
    path: '/api/v1/deployments/{name}/events',
    summary: "A deployment's history: creation, updates, switches, canary steps, rollbacks and why",
    tag: 'deployments',
    query: PageOnlyQuery,
    status: 200,
    errors: ['DEPLOYMENT_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/v1/deployments/{name}/status',
    summary: "This replica's view: served revision, loaded versions, canary window, shadow comparison",
    tag: 'deployments',
    status: 200,
    errors: ['DEPLOYMENT_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/deployments/{name}/rollouts',
    summary: 'Start a blue-green switch or a canary',
    tag: 'deployments',
    body: RolloutRequestSchema,
    status: 202,
    etag: true,
    errors: [
      ...COMMON,
      'DEPLOYMENT_NOT_FOUND',
      'VERSION_NOT_FOUND',
      'ALIAS_NOT_FOUND',
      'SIGNATURE_MISMATCH',
      'ROLLOUT_CONFLICT',
      'PRECONDITION_FAILED',
    ],
  },
  {
    method: 'post',
    path: '/api/v1/deployments/{name}/rollouts/abort',
    summary: 'Abort the running canary (all traffic back to the stable version)',
    tag: 'deployments',
    body: AbortBody,
    status: 200,
    etag: true,
    errors: ['DEPLOYMENT_NOT_FOUND', 'ROLLOUT_CONFLICT'],
  },
  {
    method: 'get',
    path: '/api/v1/datasets',
    summary: 'List dataset versions (content hash, source, rows, profile), newest first',
    tag: 'datasets',
    query: DatasetVersionsQuery,
    status: 200,
    errors: COMMON,
  },
  {
    method: 'get',
    path: '/api/v1/datasets/{version}',
    summary: 'Show a dataset version with its profile',
    tag: 'datasets',
    status: 200,
    errors: ['NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{model}/versions/{version}/profile',
    summary: "A version's reference profile: the profile of the dataset version it was trained on",
    tag: 'versions',
    status: 200,
    errors: ['BAD_REQUEST', 'MODEL_NOT_FOUND', 'VERSION_NOT_FOUND', 'NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/v1/runs',
    summary: 'List tracked runs, newest first',
    tag: 'runs',
    query: RunsQuery,
    status: 200,
    errors: COMMON,
  },
  {
    method: 'post',
    path: '/api/v1/runs',
    summary: 'Start a run: name, params, dataset and code versions',
    tag: 'runs',
    body: CreateRunBody,
    status: 201,
    errors: COMMON,
  },
  {
    method: 'get',
    path: '/api/v1/runs/{id}',
    summary: 'Show a run',
    tag: 'runs',
    status: 200,
    errors: ['NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/runs/{id}/metrics',
    summary: 'Log metric values at steps (refused once the run has finished)',
    tag: 'runs',
    body: RunMetricsBody,
    status: 201,
    errors: [...COMMON, 'NOT_FOUND', 'ALREADY_EXISTS', 'RUN_FINISHED'],
  },
  {
    method: 'get',
    path: '/api/v1/runs/{id}/metrics',
    summary: "A run's metric values, by key then step",
    tag: 'runs',
    query: RunMetricsQuery,
    status: 200,
    errors: ['BAD_REQUEST', 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/v1/runs/{id}/finish',
    summary: 'Finish a run as succeeded or failed (with its error), with summary metrics and artifacts',
    tag: 'runs',
    body: FinishRunBody,
    status: 200,
    errors: [...COMMON, 'NOT_FOUND', 'ALREADY_EXISTS', 'RUN_FINISHED'],
  },
]);

function jsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

function queryParameters(schema: z.ZodObject): unknown[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: false,
    schema: jsonSchema(field as z.ZodType),
  }));
}

/** Builds the document. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of MANAGEMENT_OPERATIONS) {
    const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: m[1] === 'version' ? { type: 'integer', minimum: 1 } : { type: 'string' },
    }));
    const headers =
      op.etag && op.method !== 'get'
        ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }]
        : [];
    const body =
      op.body === undefined
        ? undefined
        : op.body === 'onnx'
          ? {
              required: true,
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            }
          : { required: op.method !== 'delete', content: { 'application/json': { schema: jsonSchema(op.body) } } };
    const responses: Record<string, unknown> = {
      [String(op.status)]: {
        description: 'OK',
        ...(op.etag && {
          headers: { ETag: { schema: { type: 'string' }, description: 'The revision, for If-Match' } },
        }),
      },
    };
    for (const code of op.errors) {
      const status = String(ERROR_CODES[code].http);
      responses[status] ??= {
        description: ERROR_CODES[code].summary,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      parameters: [...pathParams, ...headers, ...(op.query ? queryParameters(op.query) : [])],
      ...(body !== undefined && { requestBody: body }),
      responses,
    };
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
