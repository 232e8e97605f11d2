/**
 * The model repository extension over REST: the index and its states, unload and load (with
 * inference failing and recovering in between), new and replaced versions, and loads that fail —
 * a missing folder, a corrupt model.onnx, a bad config.json — while the server keeps serving.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../../../src/onnx/fixtures.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import { assertError, assertServesMlp, type InferReply, mlpRequest } from './http-test-kit.ts';

type Row = { name: string; version?: string; state: string; reason?: string };

test('repository extension', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp', 'multi_io'], withoutGrpc: true });
  const index = async (body: unknown = {}): Promise<Row[]> => {
    const res = await injectJson(server, { url: '/v2/repository/index', body });
    assert.equal(res.status, 200, res.raw.toString());
    return res.json as Row[];
  };
  const post = (url: string): ReturnType<typeof injectJson> => injectJson(server, { url, body: {} });

  await t.test('the index lists every model version as READY', async () => {
    assert.deepEqual(await index(), [
      { name: 'mlp', version: '1', state: 'READY' },
      { name: 'multi_io', version: '1', state: 'READY' },
    ]);
    const empty = await server.http.inject({ method: 'POST', url: '/v2/repository/index' });
    assert.equal(empty.statusCode, 200);
    assert.equal((JSON.parse(empty.body) as Row[]).length, 2);
  });

  await t.test('a bad index body is 400', async () => {
    const res = await injectJson(server, { url: '/v2/repository/index', body: { ready: 'yes' } });
    assertError(res, { code: 'BAD_REQUEST', includes: ['"ready" must be true or false', '"yes"'] });
    assertError(await injectJson(server, { url: '/v2/repository/index', body: '{"ready":' }), {
      code: 'INVALID_JSON',
      includes: ['not valid JSON'],
    });
    assertError(await injectJson(server, { url: '/v2/repository/index', body: '[]' }), {
      code: 'BAD_REQUEST',
      includes: ['JSON object'],
    });
  });

  await t.test('unload makes the model UNAVAILABLE and inference fail; load brings it back', async () => {
    assert.equal((await post('/v2/repository/models/mlp/unload')).status, 200);
    const rows = await index();
    assert.deepEqual(
      rows.find((r) => r.name === 'mlp'),
      { name: 'mlp', state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    assert.deepEqual(await index({ ready: true }), [{ name: 'multi_io', version: '1', state: 'READY' }]);

    const infer = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest() });
    assertError(infer, { code: 'MODEL_NOT_READY', includes: ['model "mlp"', 'unloaded'] });
    const ready = await injectJson(server, { url: '/v2/models/mlp/ready' });
    assert.equal(ready.status, 400);
    assert.deepEqual(ready.json, { name: 'mlp', ready: false });

    assert.equal((await post('/v2/repository/models/mlp/load')).status, 200);
    assert.deepEqual(
      (await index()).find((r) => r.name === 'mlp'),
      { name: 'mlp', version: '1', state: 'READY' },
    );
    await assertServesMlp(server);
  });

  await t.test('unloading twice is harmless and loading a loaded model is a no-op', async () => {
    assert.equal((await post('/v2/repository/models/multi_io/unload')).status, 200);
    assert.equal((await post('/v2/repository/models/multi_io/unload')).status, 200);
    assert.equal((await post('/v2/repository/models/multi_io/load')).status, 200);
    assert.equal((await post('/v2/repository/models/multi_io/load')).status, 200);
    assert.deepEqual(
      (await index()).find((r) => r.name === 'multi_io'),
      { name: 'multi_io', version: '1', state: 'READY' },
    );
  });

  await t.test('unload of an unknown model is 404', async () => {
    assertError(await post('/v2/repository/models/ghost/unload'), { code: 'MODEL_NOT_FOUND', includes: ['"ghost"'] });
  });

  await t.test('load of a model whose folder does not exist is 404', async () => {
    assertError(await post('/v2/repository/models/ghost/load'), {
      code: 'MODEL_NOT_FOUND',
      includes: ['no model "ghost" in the repository'],
    });
    assertError(await post('/v2/repository/models/..%2F..%2Fetc/load'), {
      code: 'MODEL_NOT_FOUND',
      includes: ['no model'],
    });
    assert.equal(
      (await index()).some((r) => r.name === 'ghost'),
      false,
    );
    await assertServesMlp(server);
  });

  await t.test("load of a corrupt model.onnx is 400 INVALID_MODEL with onnxruntime's reason", async () => {
    await mkdir(join(server.dir, 'broken', '1'), { recursive: true });
    await writeFile(
      join(server.dir, 'broken', '1', 'model.onnx'),
      Buffer.from('this is not an ONNX protobuf \u0000\u00ff garbage'),
    );
    const res = await post('/v2/repository/models/broken/load');
    assertError(res, {
      code: 'INVALID_MODEL',
      includes: [
        'model "broken" failed to load',
        'version 1:',
        'onnxruntime could not load the model',
        'protobuf parsing failed',
      ],
    });
    const row = (await index()).find((r) => r.name === 'broken');
    assert.equal(row?.state, 'UNAVAILABLE');
    assert.match(row.reason ?? '', /protobuf parsing failed/);
    const infer = await injectJson(server, { url: '/v2/models/broken/infer', body: mlpRequest() });
    assertError(infer, { code: 'MODEL_NOT_READY', includes: ['model "broken"'] });
    await assertServesMlp(server);
  });

  await t.test(
    'load of a model folder with no version is 400 and with a bad config.json is 400 naming the file',
    async () => {
      await mkdir(join(server.dir, 'empty'), { recursive: true });
      assertError(await post('/v2/repository/models/empty/load'), {
        code: 'INVALID_MODEL',
        includes: ['"empty"', 'model.onnx'],
      });
      await cp(join(server.dir, 'multi_io'), join(server.dir, 'badconf'), { recursive: true });
      await writeFile(join(server.dir, 'badconf', 'config.json'), JSON.stringify({ maxBatchSize: -1, colour: 'red' }));
      assertError(await post('/v2/repository/models/badconf/load'), {
        code: 'INVALID_MODEL',
        includes: ['badconf/config.json', 'maxBatchSize'],
      });
      await writeFile(join(server.dir, 'badconf', 'config.json'), '{ not json');
      assertError(await post('/v2/repository/models/badconf/load'), {
        code: 'INVALID_MODEL',
        includes: ['badconf/config.json', 'not valid JSON'],
      });
      await assertServesMlp(server);
    },
  );

  await t.test('a new model folder loads and serves', async () => {
    await cp(join(server.dir, 'mlp'), join(server.dir, 'mlp_copy'), { recursive: true });
    assert.equal((await post('/v2/repository/models/mlp_copy/load')).status, 200);
    const res = await injectJson(server, { url: '/v2/models/mlp_copy/infer', body: mlpRequest(2, 3) });
    assert.equal(res.status, 200);
    const original = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest(2, 3) });
    assert.deepEqual((res.json as InferReply).outputs, (original.json as InferReply).outputs);
  });

  await t.test('a new version folder replaces the served version on load', async () => {
    await mkdir(join(server.dir, 'mlp_copy', '2'), { recursive: true });
    await writeFile(join(server.dir, 'mlp_copy', '2', 'model.onnx'), FIXTURES.mlp.build());
    assert.equal((await post('/v2/repository/models/mlp_copy/load')).status, 200);
    assert.deepEqual(
      (await index()).filter((r) => r.name === 'mlp_copy'),
      [{ name: 'mlp_copy', version: '2', state: 'READY' }],
    );
    const res = await injectJson(server, { url: '/v2/models/mlp_copy/infer', body: mlpRequest() });
    assert.equal(res.status, 200);
    assert.equal((res.json as InferReply).model_version, '2');
    assertError(await injectJson(server, { url: '/v2/models/mlp_copy/versions/1/infer', body: mlpRequest() }), {
      code: 'VERSION_NOT_FOUND',
      includes: ['available: [2]'],
    });
  });
});
