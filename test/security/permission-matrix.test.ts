/**
 * The whole permission matrix over the real route table: every route × every role × a grant on
 * every model, on the model the route names ("own") or on another one ("other"). Each request goes
 * through the server's real authorization hook with a real API key (scrypt, SQLite store); a
 * request the hook lets through is answered 204 by a test hook before the handler runs, so the
 * matrix asserts exactly the access decision: 2xx allowed, 403 denied, 401 without credentials.
 * The expectations are written out below, route by route, independently of the role table; a
 * route without one fails the test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHttpServer } from '../../src/api/http/http-server.ts';
import type { ManagementContext } from '../../src/api/http/route-context.ts';
import { ROUTE_TABLE } from '../../src/api/http/route-table.ts';
import { GRPC_METHOD_PERMISSIONS } from '../../src/api/grpc/grpc-methods.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createServingMetrics } from '../../src/monitor/serving-metrics.ts';
import { createApiKeyService } from '../../src/security/api-keys.ts';
import { ROLES, type Role } from '../../src/security/principal.ts';
import { createRateLimiter } from '../../src/security/rate-limiter.ts';
import { createSecurityAuthorizer } from '../../src/security/security-authorizer.ts';
import { createSecurityMetrics } from '../../src/security/security-metrics.ts';
import { grantsAllow } from '../../src/security/role-permissions.ts';
import type { InferenceService } from '../../src/serving/inference-service.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';

/** Who may call a route: everyone without credentials, or these roles. */
type Who = 'public' | readonly Role[];
const ALL: readonly Role[] = ROLES;
const PREDICT: readonly Role[] = ['predictor', 'trainer', 'deployer', 'admin'];
const TRAIN: readonly Role[] = ['trainer', 'admin'];
const DEPLOY: readonly Role[] = ['deployer', 'admin'];
const ADMIN: readonly Role[] = ['admin'];

/** The expected access of every route, written by hand. */
const EXPECTED: Readonly<Record<string, Who>> = {
  'GET /v2/health/live': 'public',
  'GET /v2/health/ready': 'public',
  'GET /v2': 'public',
  'GET /metrics': ALL,
  'GET /v2/models/stats': ALL,
  'GET /v2/models/:model': ALL,
  'GET /v2/models/:model/versions/:version': ALL,
  'GET /v2/models/:model/ready': ALL,
  'GET /v2/models/:model/versions/:version/ready': ALL,
  'GET /v2/models/:model/stats': ALL,
  'GET /v2/models/:model/versions/:version/stats': ALL,
  'POST /v2/models/:model/infer': PREDICT,
  'POST /v2/models/:model/versions/:version/infer': PREDICT,
  'POST /v2/models/:model/infer_async': PREDICT,
  'POST /v2/models/:model/versions/:version/infer_async': PREDICT,
  'POST /v2/repository/index': ALL,
  'POST /v2/repository/models/:model/load': DEPLOY,
  'POST /v2/repository/models/:model/unload': DEPLOY,
  'GET /api/v1/openapi.json': 'public',
  'GET /api/v1/models': ALL,
  'POST /api/v1/models': TRAIN,
  'GET /api/v1/models/:model': ALL,
  'PATCH /api/v1/models/:model': TRAIN,
  'DELETE /api/v1/models/:model': TRAIN,
  'GET /api/v1/models/:model/versions': ALL,
  'POST /api/v1/models/:model/versions': TRAIN,
  'GET /api/v1/models/:model/versions/:version': ALL,
  'PATCH /api/v1/models/:model/versions/:version': TRAIN,
  'DELETE /api/v1/models/:model/versions/:version': TRAIN,
  'GET /api/v1/models/:model/versions/:version/artifact': ALL,
  'POST /api/v1/artifacts/gc': ADMIN,
  'GET /api/v1/models/:model/aliases': ALL,
  'GET /api/v1/models/:model/aliases/:alias': ALL,
  'PUT /api/v1/models/:model/aliases/:alias': DEPLOY,
  'DELETE /api/v1/models/:model/aliases/:alias': DEPLOY,
  'GET /api/v1/models/:model/aliases/:alias/history': ALL,
  'GET /api/v1/models/:model/alias-history': ALL,
  'GET /api/v1/deployments': ALL,
  'POST /api/v1/deployments': DEPLOY,
  'GET /api/v1/deployments/:name': ALL,
  'PUT /api/v1/deployments/:name': DEPLOY,
  'DELETE /api/v1/deployments/:name': DEPLOY,
  'GET /api/v1/deployments/:name/events': ALL,
  'GET /api/v1/deployments/:name/status': ALL,
  'POST /api/v1/deployments/:name/rollouts': DEPLOY,
  'POST /api/v1/deployments/:name/rollouts/abort': DEPLOY,
  'GET /api/v1/datasets': ALL,
  'GET /api/v1/datasets/:version': ALL,
  'GET /api/v1/models/:model/versions/:version/profile': ALL,
  'GET /api/v1/runs': ALL,
  'POST /api/v1/runs': TRAIN,
  'GET /api/v1/runs/:id': ALL,
  'POST /api/v1/runs/:id/metrics': TRAIN,
  'GET /api/v1/runs/:id/metrics': ALL,
  'POST /api/v1/runs/:id/finish': TRAIN,
  'POST /api/v1/jobs': TRAIN,
  'GET /api/v1/jobs': ALL,
  'GET /api/v1/jobs/:id': ALL,
  'POST /api/v1/jobs/:id/cancel': TRAIN,
  'POST /api/v1/jobs/:id/retry': TRAIN,
  'GET /api/v1/jobs/:id/events': ALL,
  'GET /api/v1/experiments': ALL,
  'GET /api/v1/experiments/:id': ALL,
  'GET /api/v1/keys': ADMIN,
  'POST /api/v1/keys': ADMIN,
  'POST /api/v1/keys/:id/revoke': ADMIN,
  'POST /v2/models/:model/explain': PREDICT,
  'POST /v2/models/:model/versions/:version/explain': PREDICT,
  'GET /api/v1/models/:model/versions/:version/card': ALL,
  'GET /api/v1/deployments/:name/drift': ALL,
  'POST /api/v1/deployments/:name/drift': DEPLOY,
  'GET /api/v1/deployments/:name/drift/config': ALL,
  'PUT /api/v1/deployments/:name/drift/config': DEPLOY,
  'GET /api/v1/audit': ADMIN,
  'GET /api/v1/deployments/:name/stats': ALL,
  'POST /api/v1/feedback': PREDICT,
  'GET /api/v1/deployments/:name/quality': ALL,
  'GET /api/v1/alerts': ALL,
  'GET /api/v1/pipelines': ALL,
  'GET /api/v1/pipelines/:name': ALL,
  'PUT /api/v1/pipelines/:name': DEPLOY,
  'DELETE /api/v1/pipelines/:name': DEPLOY,
  'POST /api/v1/pipelines/:name/runs': TRAIN,
  'GET /api/v1/pipelines/:name/runs': ALL,
  'GET /api/v1/pipeline-runs/:id': ALL,
  'POST /api/v1/pipeline-runs/:id/cancel': TRAIN,
};

/** The gRPC methods, the same way. */
const EXPECTED_GRPC: Readonly<Record<string, Who>> = {
  ServerLive: 'public',
  ServerReady: 'public',
  ServerMetadata: 'public',
  ModelReady: ALL,
  ModelMetadata: ALL,
  ModelInfer: PREDICT,
};

const OWN = 'iris';
const OTHER = 'wine';

function urlOf(path: string, model: string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) =>
    name === 'model' ? model : name === 'version' ? '1' : name === 'id' ? '0123456789abcdef' : `some-${name}`,
  );
}

test('every route and gRPC method has an expectation, and no expectation names a route that is gone', () => {
  const routes = ROUTE_TABLE.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(
    routes.filter((r) => !(r in EXPECTED)),
    [],
    'routes without an expectation: add them to EXPECTED',
  );
  assert.deepEqual(
    Object.keys(EXPECTED).filter((r) => !routes.includes(r)),
    [],
  );
  const methods = GRPC_METHOD_PERMISSIONS.map((m) => m.method);
  assert.deepEqual(
    methods.filter((m) => !(m in EXPECTED_GRPC)),
    [],
  );
  assert.deepEqual(
    Object.keys(EXPECTED_GRPC).filter((m) => !methods.includes(m)),
    [],
  );
});

test('the gRPC methods: every role, global or on the named model, against the expectations', () => {
  for (const { method, permission } of GRPC_METHOD_PERMISSIONS) {
    const who = EXPECTED_GRPC[method];
    assert.ok(who !== undefined);
    if (permission === 'public') {
      assert.equal(who, 'public', method);
      continue;
    }
    assert.notEqual(who, 'public', `${method} is guarded (${permission})`);
    for (const role of ROLES) {
      const expected = (who as readonly Role[]).includes(role);
      for (const grant of [{ role }, { role, model: OWN }]) {
        assert.equal(
          grantsAllow([grant], { permission, model: OWN }),
          expected,
          `${method} ${JSON.stringify(grant)} own`,
        );
        assert.equal(
          grantsAllow([grant], { permission, model: OTHER }),
          expected && grant.model === undefined,
          `${method} ${JSON.stringify(grant)} other`,
        );
      }
    }
  }
});

test('every route × every role × global, own-model and other-model grants: 2xx allowed, 403 denied, 401 anonymous', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'stratum-matrix-'));
  const store = await openMetadataStore({ url: `sqlite:${join(folder, 'stratum.db')}` });
  t.after(async () => {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  });
  const keys = createApiKeyService({ store });
  const metrics = createServingMetrics();
  const app = createHttpServer({
    service: {} as InferenceService,
    metrics,
    config: { bodyLimitBytes: 1024 * 1024, maxBytesElementBytes: 1024 },
    logger: createLogger({ level: 'silent' }),
    authorizer: createSecurityAuthorizer({
      keys,
      limiter: createRateLimiter(),
      defaultLimits: {},
      metrics: createSecurityMetrics(metrics.registry),
    }),
    management: {} as ManagementContext,
  });
  t.after(() => app.close());
  // Reached only when the hook let the request through: the decision is what is under test.
  app.addHook('preHandler', async (_request, reply) => reply.code(204).send());
  await app.ready();

  const principals: { role: Role; model?: string; key: string }[] = [];
  for (const role of ROLES) {
    for (const model of [undefined, OWN]) {
      const grant = model === undefined ? { role } : { role, model };
      const { key } = await keys.create({ name: `${role} ${model ?? 'global'}`, grants: [grant], by: 'test' });
      principals.push({ ...grant, key });
    }
  }

  let checked = 0;
  for (const { method, path } of ROUTE_TABLE) {
    const who = EXPECTED[`${method} ${path}`];
    assert.ok(who !== undefined, `${method} ${path} has no expectation`);
    for (const target of [OWN, OTHER]) {
      const url = urlOf(path, target);
      const anonymous = await app.inject({ method, url });
      assert.equal(anonymous.statusCode, who === 'public' ? 204 : 401, `${method} ${url} without credentials`);
      for (const p of principals) {
        const response = await app.inject({ method, url, headers: { authorization: `Bearer ${p.key}` } });
        const scoped = p.model === undefined || (path.includes(':model') && p.model === target);
        const allowed: boolean = who === 'public' || (who.includes(p.role) && scoped);
        const expected: number = allowed ? 204 : 403;
        assert.equal(
          response.statusCode,
          expected,
          `${method} ${url} as ${p.role}${p.model === undefined ? '' : ` on ${p.model}`}: ${response.body}`,
        );
        checked += 1;
      }
    }
  }
  assert.equal(checked, ROUTE_TABLE.length * 2 * ROLES.length * 2);
});
