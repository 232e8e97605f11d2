/**
 * Models, versions, aliases and artifacts under `/api/v1`: a thin shell over the registry (every
 * rule lives there) that shapes JSON and maps revisions to ETags. One declaration per route (see
 * `route.ts`).
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { TagSchema } from '../../registry/names.ts';
import {
  AliasBody,
  DeleteReasonBody,
  CreateModelBody,
  GcBody,
  GcReply,
  LineageSchema,
  MetricsSchema,
  ModelAliasParams,
  ModelParams,
  ModelsQuery,
  ModelVersionParams,
  PageOnlyQuery,
  PatchModelBody,
  PatchVersionBody,
  PushQuery,
  VersionsQuery,
} from './management-schemas.ts';
import { actorOf, expectedRevision, ifMatch, page, sendWithEtag, validate } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import { withoutUndefined } from '../../util/without-undefined.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'STORE_UNAVAILABLE'] as const;

// What the audit log records of a change: the resource's path and its state before and after.
type ModelRef = { readonly params: { readonly model: string } };
type VersionRef = { readonly params: { readonly model: string; readonly version: number } };
type AliasRef = { readonly params: { readonly model: string; readonly alias: string } };
const modelPath = ({ params }: ModelRef) => `models/${params.model}`;
const modelState = ({ params }: ModelRef, { registry }: ManagementContext) => registry.getModel(params.model);
const versionPath = ({ params }: VersionRef) => `models/${params.model}/versions/${params.version}`;
const versionState = ({ params }: VersionRef, { registry }: ManagementContext) =>
  registry.getVersion(params.model, params.version);
const aliasPath = ({ params }: AliasRef) => `models/${params.model}/aliases/${params.alias}`;
const aliasState = ({ params }: AliasRef, { registry }: ManagementContext) =>
  registry.getAlias(params.model, params.alias);
const isVersion = (value: unknown): value is { version: number } =>
  typeof (value as { version?: unknown } | undefined)?.version === 'number';

/** The routes of models. */
export const MODEL_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/models',
    permission: 'registry:read',
    summary: 'List models',
    tags: ['models'],
    query: ModelsQuery,
    errors: COMMON,
    handler: async ({ query: q }, { registry }) =>
      page(
        await registry.listModels({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.name !== undefined && { nameContains: q.name }),
          ...(q.tag !== undefined && { tag: q.tag }),
        }),
        (m) => m,
      ),
  }),
  route({
    method: 'POST',
    path: '/api/v1/models',
    permission: 'registry:write',
    summary: 'Create a model',
    tags: ['models'],
    body: CreateModelBody,
    status: 201,
    errors: [...COMMON, 'ALREADY_EXISTS'],
    audit: { action: 'model.create', resource: ({ body }) => `models/${body.name}` },
    handler: ({ body, request }, { registry }) => registry.createModel({ ...body, by: actorOf(request) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model',
    permission: 'registry:read',
    summary: 'Show a model',
    tags: ['models'],
    params: ModelParams,
    errors: ['MODEL_NOT_FOUND'],
    handler: ({ params }, { registry }) => registry.getModel(params.model),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/models/:model',
    permission: 'registry:write',
    summary: "Change a model's description or tags",
    tags: ['models'],
    params: ModelParams,
    body: PatchModelBody,
    errors: [...COMMON, 'MODEL_NOT_FOUND'],
    audit: { action: 'model.update', resource: modelPath, state: modelState },
    handler: ({ params, body }, { registry }) => registry.updateModel(params.model, withoutUndefined(body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/models/:model',
    permission: 'registry:write',
    summary: 'Delete a model without versions',
    tags: ['models'],
    params: ModelParams,
    status: 204,
    errors: ['MODEL_NOT_FOUND', 'IN_USE'],
    audit: { action: 'model.delete', resource: modelPath, state: modelState },
    handler: ({ params }, { registry }) => registry.deleteModel(params.model),
  }),
];

/** The routes of versions and their artifacts. */
export const VERSION_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/models/:model/versions',
    permission: 'registry:read',
    summary: 'List versions, newest first',
    tags: ['versions'],
    params: ModelParams,
    query: VersionsQuery,
    errors: [...COMMON, 'MODEL_NOT_FOUND'],
    handler: async ({ params, query: q }, { registry }) =>
      page(
        await registry.listVersions(params.model, {
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.status !== undefined && { status: q.status }),
          ...(q.tag !== undefined && { tag: q.tag }),
        }),
        (v) => v,
      ),
  }),
  route({
    method: 'POST',
    path: '/api/v1/models/:model/versions',
    permission: 'registry:write',
    summary: 'Register a new version: the body is the ONNX file (creates the model if needed)',
    tags: ['versions'],
    params: ModelParams,
    query: PushQuery,
    body: { raw: 'application/octet-stream', description: 'The ONNX model file' },
    status: 201,
    errors: [...COMMON, 'INVALID_MODEL', 'BODY_TOO_LARGE', 'SIGNATURE_MISMATCH', 'PRECONDITION_FAILED'],
    audit: {
      action: 'version.register',
      resource: ({ params }, result) =>
        `models/${params.model}/versions${isVersion(result) ? `/${result.version}` : ''}`,
    },
    handler: ({ params, query: q, body, request }, { registry }) => {
      if (body === undefined || body.length === 0) {
        throw new StratumError(
          'BAD_REQUEST',
          'send the ONNX model file as the request body (application/octet-stream)',
        );
      }
      const tags = q.tags === undefined ? undefined : q.tags.split(',').filter((t) => t.length > 0);
      if (tags !== undefined) validate(z.array(TagSchema).max(64), tags, 'query parameter "tags"');
      const metrics = parseJsonParam(q.metrics, { schema: MetricsSchema, name: 'metrics' });
      const lineage = parseJsonParam(q.lineage, { schema: LineageSchema, name: 'lineage' });
      return registry.pushVersion({
        model: params.model,
        bytes: body,
        by: actorOf(request),
        ...(q.description !== undefined && { description: q.description }),
        ...(q.modelDescription !== undefined && { modelDescription: q.modelDescription }),
        ...(tags !== undefined && { tags }),
        ...(metrics !== undefined && { metrics }),
        ...(lineage !== undefined && { lineage: withoutUndefined(lineage) }),
        ...(q.alias !== undefined && {
          alias: {
            name: q.alias,
            ...(q.reason !== undefined && { reason: q.reason }),
            ...(q.force === 'true' && { force: true }),
          },
        }),
      });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/versions/:version',
    permission: 'registry:read',
    summary: 'Show a version',
    tags: ['versions'],
    params: ModelVersionParams,
    errors: ['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND'],
    handler: ({ params }, { registry }) => registry.getVersion(params.model, params.version),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/models/:model/versions/:version',
    permission: 'registry:write',
    summary: "Change a version's status, tags or description (its artifact, signature and metrics never change)",
    tags: ['versions'],
    params: ModelVersionParams,
    body: PatchVersionBody,
    errors: [...COMMON, 'VERSION_NOT_FOUND'],
    audit: { action: 'version.update', resource: versionPath, state: versionState },
    handler: ({ params, body }, { registry }) =>
      registry.updateVersion(params.model, params.version, withoutUndefined(body)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/models/:model/versions/:version',
    permission: 'registry:write',
    summary: 'Delete a version no alias or deployment uses',
    tags: ['versions'],
    params: ModelVersionParams,
    status: 204,
    errors: ['VERSION_NOT_FOUND', 'IN_USE'],
    audit: { action: 'version.delete', resource: versionPath, state: versionState },
    handler: ({ params }, { registry }) => registry.deleteVersion(params.model, params.version),
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/versions/:version/artifact',
    permission: 'registry:read',
    summary: "Download the version's ONNX file (verified against its sha256)",
    tags: ['versions'],
    params: ModelVersionParams,
    errors: ['VERSION_NOT_FOUND', 'ARTIFACT_CORRUPT'],
    handler: async ({ params, reply }, { registry }) => {
      const version = await registry.getVersion(params.model, params.version);
      // Streamed: the store verifies the digest as the bytes go out and fails the stream at its
      // end if they do not match, which aborts the response instead of completing it.
      const stream = await registry.openArtifact(version.artifactDigest);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(stream.size))
        .header('digest', `sha-256=${Buffer.from(version.artifactDigest, 'hex').toString('base64')}`)
        .send(Readable.from(stream));
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/artifacts/gc',
    permission: 'artifacts:manage',
    summary: 'Remove artifacts no version refers to (older than the grace period)',
    tags: ['meta'],
    body: GcBody,
    reply: GcReply,
    errors: COMMON,
    audit: { action: 'artifacts.gc', resource: () => 'artifacts' },
    handler: async ({ body }, { registry }) => {
      const result = await registry.collectGarbage({ dryRun: body.dryRun, graceMs: body.graceSeconds * 1000 });
      return { dryRun: body.dryRun, removed: result.removed, freedBytes: result.freedBytes };
    },
  }),
];

/** The routes of aliases. */
export const ALIAS_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/models/:model/aliases',
    permission: 'registry:read',
    summary: "List a model's aliases",
    tags: ['aliases'],
    params: ModelParams,
    errors: ['MODEL_NOT_FOUND'],
    handler: async ({ params }, { registry }) => ({ items: await registry.listAliases(params.model) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/aliases/:alias',
    permission: 'registry:read',
    summary: 'Show an alias (with its ETag)',
    tags: ['aliases'],
    params: ModelAliasParams,
    etag: true,
    errors: ['ALIAS_NOT_FOUND'],
    handler: async ({ params, reply }, { registry }) => {
      const alias = await registry.getAlias(params.model, params.alias);
      return sendWithEtag(reply, { revision: alias.revision, body: alias });
    },
  }),
  route({
    method: 'PUT',
    path: '/api/v1/models/:model/aliases/:alias',
    permission: 'aliases:write',
    summary: 'Create or move an alias (If-Match: the ETag read; If-None-Match: * to create only)',
    tags: ['aliases'],
    params: ModelAliasParams,
    body: AliasBody,
    etag: true,
    errors: [...COMMON, 'VERSION_NOT_FOUND', 'PRECONDITION_FAILED', 'SIGNATURE_MISMATCH'],
    audit: { action: 'alias.set', resource: aliasPath, state: aliasState },
    handler: async ({ params, body, request, reply }, { registry }) => {
      const expected = expectedRevision(request);
      const record = await ifMatch(expected, () =>
        registry.setAlias({
          model: params.model,
          alias: params.alias,
          version: body.version,
          by: actorOf(request),
          ...(body.reason !== undefined && { reason: body.reason }),
          ...(body.force !== undefined && { force: body.force }),
          ...(expected !== undefined && { expectedRevision: expected }),
        }),
      );
      return sendWithEtag(reply, { revision: record.revision, body: record });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/models/:model/aliases/:alias',
    permission: 'aliases:write',
    summary: 'Delete an alias no deployment routes through',
    tags: ['aliases'],
    params: ModelAliasParams,
    body: DeleteReasonBody,
    status: 204,
    etag: true,
    errors: ['ALIAS_NOT_FOUND', 'IN_USE', 'PRECONDITION_FAILED'],
    audit: { action: 'alias.delete', resource: aliasPath, state: aliasState },
    handler: async ({ params, body, request }, { registry }) => {
      const expected = expectedRevision(request);
      await ifMatch(expected, () =>
        registry.deleteAlias({
          model: params.model,
          alias: params.alias,
          by: actorOf(request),
          ...(body.reason !== undefined && { reason: body.reason }),
          ...(expected !== undefined && { expectedRevision: expected }),
        }),
      );
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/aliases/:alias/history',
    permission: 'registry:read',
    summary: 'Every move of an alias, newest first',
    tags: ['aliases'],
    params: ModelAliasParams,
    query: PageOnlyQuery,
    errors: ['MODEL_NOT_FOUND'],
    handler: ({ params, query }, context) => aliasHistory({ ...params, ...query }, context),
  }),
  route({
    method: 'GET',
    path: '/api/v1/models/:model/alias-history',
    permission: 'registry:read',
    summary: 'Every move of every alias of a model, newest first',
    tags: ['aliases'],
    params: ModelParams,
    query: PageOnlyQuery,
    errors: ['MODEL_NOT_FOUND'],
    handler: ({ params, query }, context) => aliasHistory({ ...params, ...query }, context),
  }),
];

async function aliasHistory(
  options: { model: string; alias?: string; limit?: number | undefined; cursor?: string | undefined },
  { registry }: ManagementContext,
) {
  await registry.getModel(options.model);
  return page(await registry.aliasHistory(withoutUndefined(options)), (e) => e);
}

function parseJsonParam<S extends z.ZodType>(
  raw: string | undefined,
  param: { schema: S; name: string },
): z.infer<S> | undefined {
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new StratumError(
      'BAD_REQUEST',
      `query parameter "${param.name}" is not valid JSON: ${(error as Error).message}`,
    );
  }
  return validate(param.schema, json, `query parameter "${param.name}"`);
}
