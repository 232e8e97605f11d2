/**
 * The management REST API under `/api/v1`: models, versions, aliases and deployments. It is a thin
 * shell over the registry (every rule lives there); this layer parses, validates and shapes JSON,
 * and maps revisions to ETags. The CLI and, later, the dashboard use only this API.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { planOf, planServes } from '../../deploy/deployment-plan.ts';
import type { DeploymentSource } from '../../deploy/deployment-source.ts';
import { AliasNameSchema, TagSchema } from '../../registry/names.ts';
import type { Deployment, Registry } from '../../registry/registry.ts';
import type { Page } from '../../store/metadata-store.ts';
import {
  ModelsQuery,
  VersionsQuery,
  DeploymentsQuery,
  PageOnlyQuery,
  CreateModelBody,
  PatchModelBody,
  PatchVersionBody,
  PushQuery,
  MetricsSchema,
  LineageSchema,
  AliasBody,
  DeleteReasonBody,
  CreateDeploymentBody,
  AbortBody,
  GcBody,
} from './management-schemas.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { actorOf, expectedRevision, ifMatch, jsonBody, sendWithEtag, validate } from './request-helpers.ts';

/** Options of {@link registerManagementRoutes}. */
export interface ManagementRoutesOptions {
  readonly registry: Registry;
  /** This replica's deployments, for the status endpoint. */
  readonly deployments: DeploymentSource;
}

const versionParam = z.coerce.number().int().min(1).max(2_147_483_647);

type Params = { model?: string; version?: string; alias?: string; name?: string };

function param(request: FastifyRequest, key: keyof Params): string {
  return (request.params as Params)[key] as string;
}

/** The `:version` path parameter as a positive integer (BAD_REQUEST otherwise). */
export function versionOf(request: FastifyRequest): number {
  const raw = param(request, 'version');
  const parsed = versionParam.safeParse(raw);
  if (!parsed.success || !/^\d+$/.test(raw)) {
    throw new StratumError('BAD_REQUEST', `version must be a positive integer, got "${raw}"`);
  }
  return parsed.data;
}

function aliasOf(request: FastifyRequest): string {
  const raw = param(request, 'alias');
  const parsed = AliasNameSchema.safeParse(raw);
  if (!parsed.success) throw new StratumError('BAD_REQUEST', `alias "${raw}" ${parsed.error.issues[0]?.message}`);
  return raw;
}

function page<T, U>(result: Page<T>, map: (item: T) => U): { items: U[]; nextCursor?: string } {
  return { items: result.items.map(map), ...(result.nextCursor !== undefined && { nextCursor: result.nextCursor }) };
}

function deploymentJson(deployment: Deployment): unknown {
  return { ...deployment, etag: `"${deployment.revision}"` };
}

function parseJsonParam<S extends z.ZodType>(raw: string | undefined, schema: S, name: string): z.infer<S> | undefined {
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `query parameter "${name}" is not valid JSON: ${(error as Error).message}`);
  }
  return validate(schema, json, `query parameter "${name}"`);
}

/** Registers every `/api/v1` route on the app. */
export function registerManagementRoutes(app: FastifyInstance, options: ManagementRoutesOptions): void {
  const { registry, deployments } = options;
  const openapi = buildOpenApiDocument();

  app.get('/api/v1/openapi.json', async () => openapi);

  // Models.
  app.get('/api/v1/models', async (req) => {
    const q = validate(ModelsQuery, req.query, 'query');
    return page(
      await registry.listModels({
        ...(q.limit !== undefined && { limit: q.limit }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
        ...(q.name !== undefined && { nameContains: q.name }),
        ...(q.tag !== undefined && { tag: q.tag }),
      }),
      (m) => m,
    );
  });
  app.post('/api/v1/models', async (req, reply) => {
    const body = jsonBody(req, CreateModelBody);
    const model = await registry.createModel({ ...body, by: actorOf(req) });
    return reply.code(201).send(model);
  });
  app.get('/api/v1/models/:model', async (req) => registry.getModel(param(req, 'model')));
  app.patch('/api/v1/models/:model', async (req) => {
    const body = jsonBody(req, PatchModelBody);
    return registry.updateModel(param(req, 'model'), {
      ...(body.description !== undefined && { description: body.description }),
      ...(body.tags !== undefined && { tags: body.tags }),
    });
  });
  app.delete('/api/v1/models/:model', async (req, reply) => {
    await registry.deleteModel(param(req, 'model'));
    return reply.code(204).send();
  });

  // Versions.
  app.get('/api/v1/models/:model/versions', async (req) => {
    const q = validate(VersionsQuery, req.query, 'query');
    return page(
      await registry.listVersions(param(req, 'model'), {
        ...(q.limit !== undefined && { limit: q.limit }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
        ...(q.status !== undefined && { status: q.status }),
        ...(q.tag !== undefined && { tag: q.tag }),
      }),
      (v) => v,
    );
  });
  app.post('/api/v1/models/:model/versions', async (req, reply) => {
    const model = param(req, 'model');
    const q = validate(PushQuery, req.query, 'query');
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new StratumError('BAD_REQUEST', 'send the ONNX model file as the request body (application/octet-stream)');
    }
    const tags = q.tags === undefined ? undefined : q.tags.split(',').filter((t) => t.length > 0);
    if (tags !== undefined) validate(z.array(TagSchema).max(64), tags, 'query parameter "tags"');
    const metrics = parseJsonParam(q.metrics, MetricsSchema, 'metrics');
    const lineage = parseJsonParam(q.lineage, LineageSchema, 'lineage');
    const version = await registry.pushVersion({
      model,
      bytes: body,
      by: actorOf(req),
      ...(q.description !== undefined && { description: q.description }),
      ...(q.modelDescription !== undefined && { modelDescription: q.modelDescription }),
      ...(tags !== undefined && { tags }),
      ...(metrics !== undefined && { metrics }),
      ...(lineage !== undefined && { lineage: stripUndefined(lineage) }),
    });
    return reply.code(201).send(version);
  });
  app.get('/api/v1/models/:model/versions/:version', async (req) =>
    registry.getVersion(param(req, 'model'), versionOf(req)),
  );
  app.patch('/api/v1/models/:model/versions/:version', async (req) => {
    const body = jsonBody(req, PatchVersionBody);
    return registry.updateVersion(param(req, 'model'), versionOf(req), stripUndefined(body));
  });
  app.delete('/api/v1/models/:model/versions/:version', async (req, reply) => {
    await registry.deleteVersion(param(req, 'model'), versionOf(req));
    return reply.code(204).send();
  });
  app.get('/api/v1/models/:model/versions/:version/artifact', async (req, reply) => {
    const version = await registry.getVersion(param(req, 'model'), versionOf(req));
    // Streamed: the store verifies the digest as the bytes go out and fails the stream at its
    // end if they do not match, which aborts the response instead of completing it.
    const stream = await registry.openArtifact(version.artifactDigest);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(stream.size))
      .header('digest', `sha-256=${Buffer.from(version.artifactDigest, 'hex').toString('base64')}`)
      .send(Readable.from(stream));
  });

  // Aliases.
  app.get('/api/v1/models/:model/aliases', async (req) => ({
    items: await registry.listAliases(param(req, 'model')),
  }));
  app.get('/api/v1/models/:model/aliases/:alias', async (req, reply) => {
    const alias = await registry.getAlias(param(req, 'model'), aliasOf(req));
    return sendWithEtag(reply, { revision: alias.revision, body: alias });
  });
  app.put('/api/v1/models/:model/aliases/:alias', async (req, reply) => {
    const alias = aliasOf(req);
    const body = jsonBody(req, AliasBody);
    const expected = expectedRevision(req);
    const record = await ifMatch(expected, () =>
      registry.setAlias({
        model: param(req, 'model'),
        alias,
        version: body.version,
        by: actorOf(req),
        ...(body.reason !== undefined && { reason: body.reason }),
        ...(expected !== undefined && { expectedRevision: expected }),
      }),
    );
    return sendWithEtag(reply, { revision: record.revision, body: record });
  });
  app.delete('/api/v1/models/:model/aliases/:alias', async (req, reply) => {
    const alias = aliasOf(req);
    const { reason } = jsonBody(req, DeleteReasonBody);
    const expected = expectedRevision(req);
    await ifMatch(expected, () =>
      registry.deleteAlias({
        model: param(req, 'model'),
        alias,
        by: actorOf(req),
        ...(reason !== undefined && { reason }),
        ...(expected !== undefined && { expectedRevision: expected }),
      }),
    );
    return reply.code(204).send();
  });
  const history = async (req: FastifyRequest) => {
    const q = validate(PageOnlyQuery, req.query, 'query');
    const alias = (req.params as Params).alias === undefined ? undefined : aliasOf(req);
    const model = param(req, 'model');
    await registry.getModel(model);
    return page(
      await registry.aliasHistory({
        model,
        ...(alias !== undefined && { alias }),
        ...(q.limit !== undefined && { limit: q.limit }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
      }),
      (e) => e,
    );
  };
  app.get('/api/v1/models/:model/aliases/:alias/history', history);
  app.get('/api/v1/models/:model/alias-history', history);

  // Artifacts.
  app.post('/api/v1/artifacts/gc', async (req) => {
    const body = jsonBody(req, GcBody);
    const result = await registry.collectGarbage({ dryRun: body.dryRun, graceMs: body.graceSeconds * 1000 });
    return { dryRun: body.dryRun, removed: result.removed, freedBytes: result.freedBytes };
  });

  // Deployments.
  app.get('/api/v1/deployments', async (req) => {
    const q = validate(DeploymentsQuery, req.query, 'query');
    return page(
      await registry.listDeployments({
        ...(q.limit !== undefined && { limit: q.limit }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
        ...(q.model !== undefined && { model: q.model }),
      }),
      deploymentJson,
    );
  });
  app.post('/api/v1/deployments', async (req, reply) => {
    const { name, ...spec } = jsonBody(req, CreateDeploymentBody);
    const deployment = await registry.createDeployment({ name, spec, by: actorOf(req) });
    return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment), status: 201 });
  });
  app.get('/api/v1/deployments/:name', async (req, reply) => {
    const deployment = await registry.getDeployment(param(req, 'name'));
    return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
  });
  app.put('/api/v1/deployments/:name', async (req, reply) => {
    const spec = jsonBody(req, z.record(z.string(), z.unknown()));
    const expected = expectedRevision(req);
    const deployment = await ifMatch(expected, () =>
      registry.updateDeployment({
        name: param(req, 'name'),
        spec: omitKey(spec, 'name'),
        by: actorOf(req),
        ...(expected !== undefined && { expectedRevision: expected }),
      }),
    );
    return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
  });
  app.delete('/api/v1/deployments/:name', async (req, reply) => {
    const expected = expectedRevision(req);
    await ifMatch(expected, () =>
      registry.deleteDeployment({
        name: param(req, 'name'),
        by: actorOf(req),
        ...(expected !== undefined && { expectedRevision: expected }),
      }),
    );
    return reply.code(204).send();
  });
  app.get('/api/v1/deployments/:name/events', async (req) => {
    const q = validate(PageOnlyQuery, req.query, 'query');
    const name = param(req, 'name');
    await registry.getDeployment(name);
    return page(
      await registry.deploymentEvents({
        deployment: name,
        ...(q.limit !== undefined && { limit: q.limit }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
      }),
      (e) => e,
    );
  });
  app.get('/api/v1/deployments/:name/status', async (req) => {
    const name = param(req, 'name');
    const deployment = await registry.getDeployment(name);
    const replica = deployments.has(name) ? deployments.status(name) : undefined;
    const desired = await planOf(registry, deployment);
    return {
      name,
      revision: deployment.revision,
      servedRevision: replica?.revision ?? null,
      desiredRoutes: desired.routes,
      converged: planServes(deployments.served(name), desired),
      canary: deployment.state.canary ?? null,
      replica: replica ?? null,
    };
  });
  app.post('/api/v1/deployments/:name/rollouts', async (req, reply: FastifyReply) => {
    const body = jsonBody(req, z.unknown());
    const expected = expectedRevision(req);
    const deployment = await ifMatch(expected, () =>
      registry.startRollout({
        name: param(req, 'name'),
        request: body,
        by: actorOf(req),
        ...(expected !== undefined && { expectedRevision: expected }),
      }),
    );
    return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment), status: 202 });
  });
  app.post('/api/v1/deployments/:name/rollouts/abort', async (req, reply) => {
    const body = jsonBody(req, AbortBody);
    const name = param(req, 'name');
    const current = await registry.getDeployment(name);
    const canary = current.state.canary;
    if (canary?.status !== 'running') {
      throw new StratumError('ROLLOUT_CONFLICT', `deployment "${name}" has no running canary to abort`);
    }
    const deployment = await registry.rollbackCanary({
      name,
      canaryId: canary.id,
      reason: body.reason,
      by: actorOf(req),
      status: 'aborted',
    });
    return sendWithEtag(reply, { revision: deployment.revision, body: deploymentJson(deployment) });
  });
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function omitKey(value: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
}
