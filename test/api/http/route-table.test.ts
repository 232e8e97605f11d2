/**
 * The route table is the one place a route is declared: every row is registered with its
 * permission and guarded by the hook, a route registered any other way fails at start-up, and
 * every gRPC method has a permission too. In-process (`inject`), no engine needed: the authorizer
 * refuses every guarded request before a handler runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPC_METHOD_PERMISSIONS } from '../../../src/api/grpc/grpc-methods.ts';
import { loadInferenceProto } from '../../../src/api/grpc/inference-proto.ts';
import { createHttpServer, type HttpServerOptions } from '../../../src/api/http/http-server.ts';
import type { ManagementContext } from '../../../src/api/http/route-context.ts';
import {
  HTTP_ROUTES,
  MANAGEMENT_ROUTES,
  REFERENCE_ROUTES,
  ROUTE_PERMISSIONS,
  ROUTE_TABLE,
  SERVING_ROUTES,
} from '../../../src/api/http/route-table.ts';
import type { AuthorizationRequest } from '../../../src/api/permissions.ts';
import { StratumError } from '../../../src/errors/index.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createServingMetrics } from '../../../src/monitor/serving-metrics.ts';
import type { InferenceService } from '../../../src/serving/inference-service.ts';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';

const service = {
  live: () => true,
  ready: () => true,
  serverMetadata: () => ({ name: 'stratum', version: 'test', extensions: [] }),
} as unknown as InferenceService;

function server(options: { asked: AuthorizationRequest[]; management: boolean }) {
  const http: HttpServerOptions = {
    service,
    metrics: createServingMetrics(),
    config: { bodyLimitBytes: 1024 * 1024, maxBytesElementBytes: 1024 },
    logger: createLogger({ level: 'silent' }),
    authorizer: (request) => {
      options.asked.push(request);
      throw new StratumError('PERMISSION_DENIED', `needs ${request.permission}`);
    },
    ...(options.management && { management: {} as ManagementContext }),
  };
  return createHttpServer(http);
}

/** A concrete URL for a route path: every `:param` filled in. */
function urlOf(path: string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => (name === 'version' ? '1' : `some-${name}`));
}

test('the table has one row per route, and the server registers every one of them', async (t) => {
  assert.equal(ROUTE_TABLE.length, HTTP_ROUTES.length);
  assert.equal(Object.keys(ROUTE_PERMISSIONS).length, ROUTE_TABLE.length, 'no route is declared twice');
  assert.equal(HTTP_ROUTES.length, SERVING_ROUTES.length + REFERENCE_ROUTES.length + MANAGEMENT_ROUTES.length);
  const app = server({ asked: [], management: true });
  t.after(() => app.close());
  await app.ready();
  for (const row of ROUTE_TABLE) {
    assert.ok(app.hasRoute({ method: row.method, url: row.path }), `${row.method} ${row.path} is registered`);
  }
  const served = SERVING_ROUTES.map((r) => `${r.method} ${r.path}`);
  for (const expected of ['GET /v2/health/live', 'GET /metrics', 'POST /v2/models/:model/infer']) {
    assert.ok(served.includes(expected), `${expected} is in the table`);
  }
});

test('every route asks the authorizer for the permission its row names (public ones ask nothing)', async (t) => {
  const asked: AuthorizationRequest[] = [];
  const app = server({ asked, management: true });
  t.after(() => app.close());
  for (const row of ROUTE_TABLE) {
    asked.length = 0;
    const res = await app.inject({ method: row.method, url: urlOf(row.path) });
    if (row.permission === 'public') {
      assert.equal(asked.length, 0, `${row.method} ${row.path} is public`);
      assert.equal(res.statusCode, 200, `${row.method} ${row.path}: ${res.body}`);
      continue;
    }
    assert.equal(res.statusCode, 403, `${row.method} ${row.path}: ${res.body}`);
    assert.deepEqual(
      asked.map((a) => a.permission),
      [row.permission],
      `${row.method} ${row.path}`,
    );
    if (row.path.includes(':model')) assert.equal(asked[0]?.model, 'some-model');
  }
});

test('without the registry, no management route is served, and the document says so', async (t) => {
  const app = server({ asked: [], management: false });
  t.after(() => app.close());
  await app.ready();
  for (const route of MANAGEMENT_ROUTES) {
    assert.equal(app.hasRoute({ method: route.method, url: route.path }), false, `${route.method} ${route.path}`);
  }
  const res = await app.inject({ url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  const paths = Object.keys((res.json() as { paths: Record<string, unknown> }).paths);
  assert.deepEqual(
    paths.filter((p) => p.startsWith('/api/v1/')),
    ['/api/v1/openapi.json'],
  );
  assert.ok(paths.includes('/v2/models/{model}/infer'));
});

test('the API reference at /docs is public, like the document it renders', async (t) => {
  const asked: AuthorizationRequest[] = [];
  const app = server({ asked, management: true });
  t.after(() => app.close());
  for (const url of ['/docs', '/docs/', '/docs/json', '/docs/static/swagger-ui.css']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
  }
  assert.deepEqual(asked, [], 'no permission was asked for');
});

test('a route registered outside the table has no permission, and the server refuses to start', async (t) => {
  const app = server({ asked: [], management: false });
  t.after(() => app.close());
  assert.throws(
    () => app.get('/unguarded', async () => 'served without a permission'),
    /route GET \/unguarded has no permission: declare it in the route table/,
  );
});

test('every method of the gRPC service has a permission', () => {
  const proto = loadInferenceProto();
  const definition = (proto['inference'] as GrpcObject)['GRPCInferenceService'] as ServiceClientConstructor;
  assert.deepEqual(GRPC_METHOD_PERMISSIONS.map((m) => m.method).sort(), Object.keys(definition.service).sort());
  assert.equal(GRPC_METHOD_PERMISSIONS.find((m) => m.method === 'ModelInfer')?.permission, 'models:infer');
});
