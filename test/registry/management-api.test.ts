/**
 * The management API end to end (in-process requests, real onnxruntime, real stores), once per
 * metadata store engine. Every rejected request is checked to leave the registry unchanged.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { MANAGEMENT_ROUTES as MANAGEMENT_OPERATIONS, ROUTE_PERMISSIONS } from '../../src/api/http/route-table.ts';
import { api, registrySnapshot } from '../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';

const MLP = FIXTURES.mlp.build();
const MLP_OTHER = buildMlp({ seed: 7 });
const CNN = FIXTURES.cnn.build();

function artifactsDir(server: RegistryServer): string {
  return server.artifactsUrl.slice('file:'.length);
}

async function push(server: RegistryServer, model: string, bytes: Uint8Array): Promise<number> {
  const res = await api(server, { url: `/api/v1/models/${model}/versions`, body: bytes });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.version as number;
}

/** Asserts that `request` is refused with `status` and a message matching `message`, and changed nothing. */
async function refusedWithoutChange(
  server: RegistryServer,
  request: Parameters<typeof api>[1],
  expected: { status: number; message: RegExp },
): Promise<void> {
  const before = await registrySnapshot(server, artifactsDir(server));
  const res = await api(server, request);
  assert.equal(res.status, expected.status, `${request.method ?? 'POST'} ${request.url}: ${JSON.stringify(res.json)}`);
  assert.match(res.json.error as string, expected.message);
  assert.equal(await registrySnapshot(server, artifactsDir(server)), before, 'the registry is unchanged');
}

const mlpRequest = {
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from({ length: 784 }, (_, i) => (i % 7) / 7) },
  ],
};

function suite(engine: 'sqlite' | 'postgres'): void {
  const start = (t: TestContext) => startRegistryServer(t, { engine });

  test('a pushed model becomes an immutable version with the signature read from its graph', async (t) => {
    const server = await start(t);
    const res = await api(server, {
      url: '/api/v1/models/mlp/versions?description=first&tags=baseline,mnist&metrics=%7B%22accuracy%22%3A0.97%7D',
      body: MLP,
      headers: { 'x-stratum-actor': 'alice' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.json.version, 1);
    assert.equal(res.json.createdBy, 'alice');
    assert.deepEqual(res.json.tags, ['baseline', 'mnist']);
    assert.deepEqual(res.json.metrics, { accuracy: 0.97 });
    assert.deepEqual(res.json.signature.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }]);
    assert.match(res.json.artifactDigest, /^[0-9a-f]{64}$/);
    assert.equal(await push(server, 'mlp', MLP_OTHER), 2);
    const download = await server.http.inject({ url: '/api/v1/models/mlp/versions/1/artifact' });
    assert.equal(download.statusCode, 200);
    assert.ok(Buffer.from(MLP).equals(download.rawPayload), 'the artifact comes back byte for byte');
    const patched = await api(server, {
      method: 'PATCH',
      url: '/api/v1/models/mlp/versions/1',
      body: { artifactDigest: '0'.repeat(64) },
    });
    assert.equal(patched.status, 400, 'the artifact of a version cannot change');
  });

  test('lists are paginated and filterable', async (t) => {
    const server = await start(t);
    for (const name of ['alpha', 'beta', 'gamma']) await push(server, name, MLP);
    await api(server, { method: 'PATCH', url: '/api/v1/models/beta', body: { tags: ['vision'] } });
    const first = await api(server, { url: '/api/v1/models?limit=2' });
    assert.deepEqual(
      first.json.items.map((m: { name: string }) => m.name),
      ['alpha', 'beta'],
    );
    const second = await api(server, {
      url: `/api/v1/models?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`,
    });
    assert.deepEqual(
      second.json.items.map((m: { name: string }) => m.name),
      ['gamma'],
    );
    assert.equal(second.json.nextCursor, undefined);
    assert.deepEqual(
      (await api(server, { url: '/api/v1/models?tag=vision' })).json.items.map((m: { name: string }) => m.name),
      ['beta'],
    );
    assert.deepEqual(
      (await api(server, { url: '/api/v1/models?name=MM' })).json.items.map((m: { name: string }) => m.name),
      ['gamma'],
    );
    await push(server, 'alpha', MLP_OTHER);
    const versions = await api(server, { url: '/api/v1/models/alpha/versions?limit=1' });
    assert.deepEqual(
      versions.json.items.map((v: { version: number }) => v.version),
      [2],
      'newest first',
    );
    assert.equal((await api(server, { url: '/api/v1/models?limit=0' })).status, 400);
  });

  test('a file that is not an ONNX model is refused with the parser reason and leaves nothing behind', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await refusedWithoutChange(
      server,
      { url: '/api/v1/models/mlp/versions', body: new TextEncoder().encode('{"not": "a model"}') },
      { status: 400, message: /not a valid ONNX model: .+/ },
    );
    await refusedWithoutChange(
      server,
      { url: '/api/v1/models/fresh/versions', body: MLP.subarray(0, 1000) },
      { status: 400, message: /not a valid ONNX model/ },
    );
    await refusedWithoutChange(
      server,
      { url: '/api/v1/models/bad%20name/versions', body: MLP },
      { status: 400, message: /model name "bad name"/ },
    );
    await refusedWithoutChange(
      server,
      { url: '/api/v1/models/mlp/versions?metrics=%7Bnope', body: MLP },
      { status: 400, message: /"metrics" is not valid JSON/ },
    );
  });

  test('aliases move with optimistic concurrency and every move is in the history', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await push(server, 'mlp', MLP_OTHER);
    const created = await api(server, {
      method: 'PUT',
      url: '/api/v1/models/mlp/aliases/production',
      body: { version: 1, reason: 'first release' },
      headers: { 'if-none-match': '*', 'x-stratum-actor': 'alice' },
    });
    assert.equal(created.status, 200);
    const etag = created.headers['etag'] as string;
    assert.equal(etag, '"1"');
    const moved = await api(server, {
      method: 'PUT',
      url: '/api/v1/models/mlp/aliases/production',
      body: { version: 2, reason: 'better accuracy' },
      headers: { 'if-match': etag, 'x-stratum-actor': 'bob' },
    });
    assert.equal(moved.status, 200);
    await refusedWithoutChange(
      server,
      {
        method: 'PUT',
        url: '/api/v1/models/mlp/aliases/production',
        body: { version: 1 },
        headers: { 'if-match': etag },
      },
      { status: 412, message: /revision|stale|changed/i },
    );
    await refusedWithoutChange(
      server,
      { method: 'PUT', url: '/api/v1/models/mlp/aliases/production', body: { version: 9 } },
      { status: 404, message: /version 9/ },
    );
    await refusedWithoutChange(
      server,
      { method: 'PUT', url: '/api/v1/models/mlp/aliases/7up', body: { version: 1 } },
      { status: 400, message: /alias "7up"/ },
    );
    const unknown = await api(server, { url: '/api/v1/models/mlp/aliases/staging' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /staging/);
    const history = await api(server, { url: '/api/v1/models/mlp/aliases/production/history' });
    assert.deepEqual(
      history.json.items.map((e: { from: number | null; to: number; by: string; reason: string }) => [
        e.from,
        e.to,
        e.by,
        e.reason,
      ]),
      [
        [1, 2, 'bob', 'better accuracy'],
        [null, 1, 'alice', 'first release'],
      ],
    );
  });

  test('two concurrent alias moves from the same ETag: exactly one wins, the other gets 412', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await push(server, 'mlp', MLP_OTHER);
    const alias = await api(server, {
      method: 'PUT',
      url: '/api/v1/models/mlp/aliases/production',
      body: { version: 1 },
    });
    const etag = alias.headers['etag'] as string;
    const results = await Promise.all(
      [2, 1].map((version) =>
        api(server, {
          method: 'PUT',
          url: '/api/v1/models/mlp/aliases/production',
          body: { version },
          headers: { 'if-match': etag },
        }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 412]);
    const history = await api(server, { url: '/api/v1/models/mlp/aliases/production/history' });
    assert.equal(history.json.items.length, 2, 'the losing move left no trace');
  });

  test('deployments refuse bad specs, unknown targets and versions whose signature does not fit', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await push(server, 'mlp', CNN);
    const bad = async (body: unknown, status: number, message: RegExp) =>
      refusedWithoutChange(server, { url: '/api/v1/deployments', body }, { status, message });
    await bad({ name: 'mlp', routes: [{ version: 1, weight: 60 }] }, 400, /weights must sum to 100, got 60/);
    await bad({ name: 'mlp', routes: [{ alias: 'production', weight: 100 }] }, 404, /production/);
    await bad({ name: 'mlp', routes: [{ version: 5, weight: 100 }] }, 404, /version 5/);
    await bad({ name: 'mlp', routes: [{ version: 1, weight: 100 }], colour: 'red' }, 400, /colour/);
    await bad(
      {
        name: 'mlp',
        routes: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
      },
      409,
      /signature does not fit.*input "input" is missing/,
    );
    const created = await api(server, {
      url: '/api/v1/deployments',
      body: { name: 'mlp', routes: [{ version: 1, weight: 100 }] },
    });
    assert.equal(created.status, 201);
    await bad({ name: 'mlp', routes: [{ version: 1, weight: 100 }] }, 409, /already exists|taken/);
    await refusedWithoutChange(
      server,
      { url: '/api/v1/deployments/mlp/rollouts', body: { strategy: 'blue-green', version: 2 } },
      { status: 409, message: /version 2 vs version 1: input "input" is missing/ },
    );
    await refusedWithoutChange(
      server,
      {
        method: 'PUT',
        url: '/api/v1/deployments/mlp',
        body: { routes: [{ version: 1, weight: 100 }] },
        headers: { 'if-match': '"7"' },
      },
      { status: 412, message: /revision|stale|changed/i },
    );
  });

  test('a version or alias still in use cannot be deleted, and the refusal names its users', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await push(server, 'mlp', MLP_OTHER);
    await api(server, { method: 'PUT', url: '/api/v1/models/mlp/aliases/production', body: { version: 1 } });
    await api(server, {
      url: '/api/v1/deployments',
      body: {
        name: 'mlp-live',
        model: 'mlp',
        routes: [
          { alias: 'production', weight: 50 },
          { version: 2, weight: 50 },
        ],
      },
    });
    await refusedWithoutChange(
      server,
      { method: 'DELETE', url: '/api/v1/models/mlp/versions/1' },
      { status: 409, message: /alias "production"/ },
    );
    await refusedWithoutChange(
      server,
      { method: 'DELETE', url: '/api/v1/models/mlp/versions/2' },
      { status: 409, message: /deployment "mlp-live"/ },
    );
    await refusedWithoutChange(
      server,
      { method: 'DELETE', url: '/api/v1/models/mlp/aliases/production' },
      { status: 409, message: /deployment "mlp-live"/ },
    );
    await refusedWithoutChange(
      server,
      { method: 'DELETE', url: '/api/v1/models/mlp' },
      { status: 409, message: /mlp/ },
    );
    assert.equal((await api(server, { method: 'DELETE', url: '/api/v1/deployments/mlp-live' })).status, 204);
    assert.equal((await api(server, { method: 'DELETE', url: '/api/v1/models/mlp/versions/2' })).status, 204);
    const gc = await api(server, { url: '/api/v1/artifacts/gc', body: { graceSeconds: 0 } });
    assert.equal(gc.status, 200);
    assert.equal(gc.json.removed.length, 1, 'the deleted version artifact is collected');
  });

  test('a deployment serves its routes over the inference protocol, and each version directly', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    await push(server, 'mlp', MLP_OTHER);
    await api(server, { method: 'PUT', url: '/api/v1/models/mlp/aliases/production', body: { version: 2 } });
    const created = await api(server, {
      url: '/api/v1/deployments',
      body: {
        name: 'digits',
        model: 'mlp',
        routes: [{ alias: 'production', weight: 100 }],
        serving: { maxBatchSize: 16 },
      },
    });
    assert.equal(created.status, 201);
    await server.deployments?.sync();
    const res = await api(server, { url: '/v2/models/digits/infer', body: mlpRequest });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.model_name, 'digits');
    assert.equal(res.json.model_version, '2');
    const meta = await api(server, { url: '/v2/models/digits' });
    assert.deepEqual(meta.json.versions, ['2']);
    assert.equal((await api(server, { url: '/v2/models/digits/versions/2/ready' })).status, 200);
    const missing = await api(server, { url: '/v2/models/digits/versions/1/infer', body: mlpRequest });
    assert.equal(missing.status, 404);
    assert.match(missing.json.error, /serves no version "1"; loaded: \[2\]/);
    const index = await api(server, { url: '/v2/repository/index', body: {} });
    assert.deepEqual(index.json, [{ name: 'digits', version: '2', state: 'READY' }]);
    const unload = await api(server, { url: '/v2/repository/models/digits/unload', body: {} });
    assert.equal(unload.status, 501);
    assert.match(unload.json.error, /\/api\/v1\/deployments\/digits/);
  });

  test('an artifact corrupted on disk is caught on read: it is never served, and the status says why', async (t) => {
    const server = await start(t);
    await push(server, 'mlp', MLP);
    const version = await api(server, { url: '/api/v1/models/mlp/versions/1' });
    const digest = version.json.artifactDigest as string;
    const file = join(artifactsDir(server), 'sha256', digest.slice(0, 2), digest);
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    await writeFile(file, bytes);
    await api(server, { url: '/api/v1/deployments', body: { name: 'mlp', routes: [{ version: 1, weight: 100 }] } });
    await server.deployments?.sync();
    const res = await api(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
    assert.equal(res.status, 503);
    assert.match(res.json.error, /loading \(last attempt failed: artifact [0-9a-f]{64} is corrupt/);
    const download = await server.http.inject({ url: '/api/v1/models/mlp/versions/1/artifact' }).catch((e: Error) => e);
    assert.ok(
      download instanceof Error || download.rawPayload.length < bytes.length || download.statusCode >= 500,
      'a corrupt artifact is never handed out whole',
    );
  });

  test('the OpenAPI document lists exactly the routes of the table (the registry is on), each with a permission', async (t) => {
    const server = await start(t);
    const doc = await api(server, { url: '/api/v1/openapi.json' });
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, methods] of Object.entries(doc.json.paths as Record<string, object>)) {
      for (const method of Object.keys(methods))
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const routed = new Set(Object.keys(ROUTE_PERMISSIONS));
    assert.deepEqual([...documented].sort(), [...routed].sort());
    // The management operations, and the document itself.
    assert.equal(MANAGEMENT_OPERATIONS.length + 1, [...routed].filter((r) => r.includes(' /api/v1/')).length);
    const rollout = doc.json.paths['/api/v1/deployments/{name}/rollouts'].post;
    assert.ok(rollout.requestBody.content['application/json'].schema, 'request schemas come from the zod schemas');
    assert.ok(rollout.responses['409'] && rollout.responses['412']);
  });
}

describe('management API on SQLite', () => suite('sqlite'));
describe('management API on PostgreSQL', () => suite('postgres'));
