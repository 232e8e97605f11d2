/**
 * The API reference: the OpenAPI document describes every route the server registers (read from
 * Fastify as it registers them, not from a list), it is a valid OpenAPI 3.1 document, the
 * inference protocol is filed apart from the management API, the documented inference request is
 * what the decoder accepts, and `/docs` renders it with swagger-ui's own assets, nothing from a
 * CDN. In-process (`inject`); the inference service is a stub because no route here runs a model.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createHttpServer } from '../../../src/api/http/http-server.ts';
import type { ManagementContext } from '../../../src/api/http/route-context.ts';
import { isDashboardAsset } from '../../../src/api/http/dashboard-assets.ts';
import { API_REFERENCE_PREFIX } from '../../../src/api/http/route-table.ts';
import { allowAll } from '../../../src/api/permissions.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createServingMetrics } from '../../../src/monitor/serving-metrics.ts';
import type { InferenceService } from '../../../src/serving/inference-service.ts';
import { decodeRestInferRequest } from '../../../src/serving/protocol/rest-infer-request.ts';

type Json = Record<string, unknown>;
interface OpenApi {
  readonly paths: Record<string, Record<string, Json>>;
  readonly tags: readonly { name: string; description: string }[];
  readonly 'x-tagGroups': readonly { name: string; tags: string[] }[];
  readonly components: { schemas: Record<string, Json> };
}

const service = {
  live: () => true,
  ready: () => true,
  serverMetadata: () => ({ name: 'stratum', version: 'test', extensions: [] }),
} as unknown as InferenceService;

/** A server, with every route Fastify registers recorded as it registers it. */
async function serverWithRoutes(t: TestContext, options: { management: boolean }) {
  const app = createHttpServer({
    service,
    metrics: createServingMetrics(),
    config: { bodyLimitBytes: 1024 * 1024, maxBytesElementBytes: 1024 },
    logger: createLogger({ level: 'silent' }),
    authorizer: allowAll,
    // No management route is called here: the document only needs them registered.
    ...(options.management && { management: {} as ManagementContext }),
  });
  t.after(() => app.close());
  const registered: { method: string; url: string; prefix: string; dashboard: boolean }[] = [];
  app.addHook('onRoute', (route) => {
    const dashboard = isDashboardAsset(route);
    for (const method of [route.method].flat())
      registered.push({ method, url: route.url, prefix: route.prefix, dashboard });
  });
  await app.ready();
  const res = await app.inject({ url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  return { app, registered, document: res.json() as OpenApi };
}

function operations(document: OpenApi): { key: string; path: string; method: string; operation: Json }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      key: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      path,
      method,
      operation,
    })),
  );
}

for (const management of [true, false]) {
  test(`every route the server registers is in the document, and nothing else (registry ${management ? 'on' : 'off'})`, async (t) => {
    const { registered, document } = await serverWithRoutes(t, { management });
    // HEAD is Fastify's twin of each GET; the reference's own pages are the renderer, not the API,
    // and the dashboard's files are a page that reads the API.
    const served = registered
      .filter((r) => r.method !== 'HEAD' && !r.prefix.startsWith(API_REFERENCE_PREFIX) && !r.dashboard)
      .map((r) => `${r.method} ${r.url}`);
    assert.ok(served.length > 10, `routes were recorded: ${served.length}`);
    const documented = operations(document).map((o) => o.key);
    assert.deepEqual([...documented].sort(), [...new Set(served)].sort());
    for (const expected of [
      'GET /v2',
      'GET /v2/models/:model/versions/:version/ready',
      'POST /v2/models/:model/infer',
    ]) {
      assert.ok(documented.includes(expected), expected);
    }
    assert.equal(
      documented.some((k) => k.includes(' /api/v1/models')),
      management,
    );
    // The reference itself is registered, under its prefix.
    assert.ok(registered.some((r) => r.method === 'GET' && r.url === API_REFERENCE_PREFIX));
  });
}

test('the document is valid OpenAPI 3.1: structure, path parameters, tags and references', async (t) => {
  const { document } = await serverWithRoutes(t, { management: true });
  const result = await new Validator().validate(document as unknown as Json);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));

  const tagNames = new Set(document.tags.map((tag) => tag.name));
  for (const { key, path, operation } of operations(document)) {
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const declared = ((operation['parameters'] ?? []) as { name: string; in: string }[])
      .filter((p) => p.in === 'path')
      .map((p) => p.name)
      .sort();
    assert.deepEqual(declared, inPath, `${key}: path parameters`);
    assert.ok(Object.keys(operation['responses'] as Json).length > 0, `${key}: responses`);
    for (const tag of operation['tags'] as string[]) assert.ok(tagNames.has(tag), `${key}: tag ${tag} is declared`);
  }

  // Every $ref points at something in the document.
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        else walk(value);
      }
    }
  };
  walk(document);
  assert.ok(refs.length > 0);
  for (const ref of new Set(refs)) {
    assert.match(ref, /^#\//, `${ref} is local`);
    let target: unknown = document;
    for (const part of ref.slice(2).split('/')) target = (target as Json | undefined)?.[part.replace(/~1/g, '/')];
    assert.ok(target !== undefined, `${ref} resolves`);
  }
});

test('the inference protocol is filed apart from the management API', async (t) => {
  const { document } = await serverWithRoutes(t, { management: true });
  const groupOf = new Map(document['x-tagGroups'].flatMap((g) => g.tags.map((tag) => [tag, g.name] as const)));
  const groupsOf = (prefix: string) =>
    new Set(
      operations(document)
        .filter((o) => o.path.startsWith(prefix))
        .flatMap((o) => (o.operation['tags'] as string[]).map((tag) => groupOf.get(tag))),
    );
  assert.deepEqual([...groupsOf('/v2')], ['Open Inference Protocol (/v2)']);
  assert.ok(!groupsOf('/api/v1/').has('Open Inference Protocol (/v2)'));
  assert.equal(document.tags[0]?.name, 'health', 'the protocol comes first');
  for (const tag of document.tags) assert.ok(tag.description.length > 0, `${tag.name} is described`);
});

test('the documented inference request is the one the decoder accepts', async (t) => {
  const { document } = await serverWithRoutes(t, { management: false });
  const infer = document.paths['/v2/models/{model}/infer']?.['post'] as Json;
  const body = infer['requestBody'] as { required: boolean; content: Record<string, { schema: Json }> };
  assert.equal(body.required, true);
  assert.ok(body.content['application/octet-stream'], 'the binary tensor extension is documented');
  const parameters = infer['parameters'] as { name: string; in: string }[];
  assert.ok(parameters.some((p) => p.in === 'header' && p.name === 'Inference-Header-Content-Length'));
  const reply = (infer['responses'] as Record<string, { content: Record<string, { schema: Json }> }>)['200'];
  assert.ok(reply?.content['application/json']?.schema, 'the reply is documented');

  const schema = body.content['application/json']?.schema as Json;
  const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);
  const accepted = [
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] },
    { id: 'a', inputs: [{ name: 'x', datatype: 'INT64', shape: [2, 1], data: [[1], [2]] }], outputs: [{ name: 'y' }] },
    {
      parameters: { priority: 1, binary_data_output: true },
      inputs: [{ name: 't', datatype: 'BYTES', shape: [1], data: ['hello'] }],
      outputs: [{ name: 'y', parameters: { binary_data: false } }],
    },
    { inputs: [] },
    {},
  ];
  for (const request of accepted) {
    decodeRestInferRequest({ body: Buffer.from(JSON.stringify(request)), maxBytesElement: 1024 });
    assert.equal(validate(request), true, `${JSON.stringify(request)}: ${JSON.stringify(validate.errors)}`);
  }
  const refused = [
    { inputs: [{ datatype: 'FP32', shape: [1], data: [1] }] },
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], data: [1] }] },
    { inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1], data: [1] }] },
    { inputs: 'x' },
  ];
  for (const request of refused) {
    assert.throws(() => decodeRestInferRequest({ body: Buffer.from(JSON.stringify(request)), maxBytesElement: 1024 }));
    assert.equal(validate(request), false, `${JSON.stringify(request)} is refused by the document too`);
  }
});

test('/docs renders the document with swagger-ui assets served from the package, none from a CDN', async (t) => {
  const { app, document } = await serverWithRoutes(t, { management: true });
  const page = await app.inject({ url: '/docs' });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
  assert.ok(assets.length >= 4, `the page references its assets: ${assets.join(', ')}`);
  for (const asset of assets) {
    assert.doesNotMatch(asset, /^(https?:)?\/\//, `${asset} is local`);
    const res = await app.inject({ url: asset });
    assert.equal(res.statusCode, 200, `${asset} loads`);
    assert.ok(res.rawPayload.length > 0, `${asset} has content`);
    if (asset.endsWith('.css')) assert.doesNotMatch(res.body, /@import|url\(\s*["']?(https?:)?\/\//, `${asset}`);
  }
  const initializer = await app.inject({ url: `${API_REFERENCE_PREFIX}/static/swagger-initializer.js` });
  assert.equal(initializer.statusCode, 200);
  // The document comes from this server, and nothing is sent to an online validator.
  assert.match(initializer.body, /url: resolveUrl\('\.\/json'\)/);
  assert.match(initializer.body, /validatorUrl: null/);
  const rendered = await app.inject({ url: `${API_REFERENCE_PREFIX}/json` });
  assert.deepEqual(rendered.json(), document);
});
