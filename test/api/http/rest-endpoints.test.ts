/**
 * The REST endpoints of the Open Inference Protocol v2 one by one: health, server and model
 * metadata, readiness, inference (ids, parameters, nested data, output selection), statistics and
 * Prometheus metrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose } from '../../helpers/assert-close.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertError,
  assertServesMlp,
  type InferReply,
  mlpRequest,
  mlpRows,
  modelStats,
  referenceRun,
  TOLERANCE,
} from './http-test-kit.ts';

test('REST endpoints', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp', 'multi_io'], withoutGrpc: true });

  await t.test('GET /v2/health/live and /v2/health/ready answer 200', async () => {
    const live = await injectJson(server, { url: '/v2/health/live' });
    assert.equal(live.status, 200);
    assert.deepEqual(live.json, { live: true });
    const ready = await injectJson(server, { url: '/v2/health/ready' });
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { ready: true });
  });

  await t.test('GET /v2 names the server, its version and its extensions', async () => {
    const res = await injectJson(server, { url: '/v2' });
    assert.equal(res.status, 200);
    const body = res.json as { name: string; version: string; extensions: string[] };
    assert.equal(body.name, 'stratum');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    for (const ext of ['binary_tensor_data', 'model_repository', 'statistics'])
      assert.ok(body.extensions.includes(ext), ext);
  });

  await t.test('model metadata lists inputs and outputs with -1 for the batch dimension', async () => {
    const expected = {
      name: 'mlp',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
    };
    for (const url of ['/v2/models/mlp', '/v2/models/mlp/versions/1']) {
      const res = await injectJson(server, { url });
      assert.equal(res.status, 200, url);
      assert.deepEqual(res.json, expected, url);
    }
    const multi = await injectJson(server, { url: '/v2/models/multi_io' });
    assert.deepEqual((multi.json as { outputs: unknown }).outputs, [
      { name: 'sum', datatype: 'FP32', shape: [-1, 4] },
      { name: 'prod', datatype: 'FP64', shape: [-1, 4] },
      { name: 'mask', datatype: 'BOOL', shape: [-1, 4] },
    ]);
  });

  await t.test('model readiness answers 200 for a loaded model and version', async () => {
    for (const url of ['/v2/models/mlp/ready', '/v2/models/mlp/versions/1/ready']) {
      const res = await injectJson(server, { url });
      assert.equal(res.status, 200, url);
      assert.deepEqual(res.json, { name: 'mlp', ready: true });
    }
  });

  await t.test('an unknown model is 404 MODEL_NOT_FOUND on every model route', async () => {
    for (const url of ['/v2/models/nope', '/v2/models/nope/ready', '/v2/models/nope/stats']) {
      assertError(await injectJson(server, { url }), { code: 'MODEL_NOT_FOUND', includes: ['"nope"'] });
    }
    const infer = await injectJson(server, { url: '/v2/models/nope/infer', body: mlpRequest() });
    assertError(infer, { code: 'MODEL_NOT_FOUND', includes: ['unknown model "nope"'] });
  });

  await t.test('an unknown version is 404 VERSION_NOT_FOUND naming the available versions', async () => {
    for (const url of [
      '/v2/models/mlp/versions/7',
      '/v2/models/mlp/versions/7/ready',
      '/v2/models/mlp/versions/7/stats',
    ]) {
      assertError(await injectJson(server, { url }), {
        code: 'VERSION_NOT_FOUND',
        includes: ['"7"', 'available: [1]'],
      });
    }
    const infer = await injectJson(server, { url: '/v2/models/mlp/versions/7/infer', body: mlpRequest() });
    assertError(infer, { code: 'VERSION_NOT_FOUND', includes: ['no version "7"'] });
  });

  await t.test('an unknown route is 404 with a JSON error', async () => {
    assertError(await injectJson(server, { url: '/v3/nothing' }), { code: 'NOT_FOUND', includes: ['/v3/nothing'] });
  });

  await t.test('inference echoes the id, accepts parameters and matches onnxruntime', async () => {
    const data = mlpRows(2, 1);
    const res = await injectJson(server, {
      url: '/v2/models/mlp/versions/1/infer',
      body: {
        id: 'req-42',
        parameters: { note: 'hello', flag: true, level: 3 },
        inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data, parameters: { anything: 'goes' } }],
      },
    });
    assert.equal(res.status, 200, res.raw.toString());
    const body = res.json as InferReply;
    assert.equal(body.id, 'req-42');
    assert.equal(body.model_name, 'mlp');
    assert.equal(body.model_version, '1');
    const out = body.outputs[0];
    assert.equal(out?.name, 'logits');
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, [2, 10]);
    const expected = await referenceRun('mlp', {
      input: { type: 'float32', data: Float32Array.from(data), dims: [2, 784] },
    });
    assertClose(out.data ?? [], expected['logits']?.data ?? [], { ...TOLERANCE, label: 'logits' });
  });

  await t.test('a response without an id in the request carries no id', async () => {
    const res = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest() });
    assert.equal(res.status, 200);
    assert.equal((res.json as InferReply).id, undefined);
  });

  await t.test('nested data arrays give the same result as flat data', async () => {
    const flat = mlpRows(2, 5);
    const nested = [flat.slice(0, 784), flat.slice(784)];
    const run = async (data: unknown): Promise<InferReply> => {
      const res = await injectJson(server, {
        url: '/v2/models/mlp/infer',
        body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data }] },
      });
      assert.equal(res.status, 200, res.raw.toString());
      return res.json as InferReply;
    };
    const a = await run(flat);
    const b = await run(nested);
    assert.deepEqual(b.outputs, a.outputs);
  });

  await t.test('requested outputs select which tensors come back', async () => {
    const a = [1.5, -2, 0.5, 3];
    const b = [2, 3, -4, 7];
    const inputs = [
      { name: 'a', datatype: 'FP32', shape: [1, 4], data: a },
      { name: 'b', datatype: 'INT32', shape: [1, 4], data: b },
    ];
    const expected = await referenceRun('multi_io', {
      a: { type: 'float32', data: Float32Array.from(a), dims: [1, 4] },
      b: { type: 'int32', data: Int32Array.from(b), dims: [1, 4] },
    });
    const only = await injectJson(server, {
      url: '/v2/models/multi_io/infer',
      body: { inputs, outputs: [{ name: 'sum' }] },
    });
    assert.equal(only.status, 200, only.raw.toString());
    const outs = (only.json as InferReply).outputs;
    assert.deepEqual(
      outs.map((o) => o.name),
      ['sum'],
    );
    assertClose(outs[0]?.data ?? [], expected['sum']?.data ?? [], { ...TOLERANCE, label: 'sum' });

    const two = await injectJson(server, {
      url: '/v2/models/multi_io/infer',
      body: { inputs, outputs: [{ name: 'mask' }, { name: 'prod' }] },
    });
    assert.equal(two.status, 200);
    const byName = new Map((two.json as InferReply).outputs.map((o) => [o.name, o]));
    assert.deepEqual([...byName.keys()], ['mask', 'prod']);
    assert.deepEqual(byName.get('mask')?.data, expected['mask']?.data.map(Boolean));
    assert.equal(byName.get('prod')?.datatype, 'FP64');
    assertClose(byName.get('prod')?.data ?? [], expected['prod']?.data ?? [], { ...TOLERANCE, label: 'prod' });

    const all = await injectJson(server, { url: '/v2/models/multi_io/infer', body: { inputs } });
    assert.deepEqual(
      (all.json as InferReply).outputs.map((o) => o.name),
      ['sum', 'prod', 'mask'],
    );
  });

  await t.test('an unknown requested output is 400 INVALID_OUTPUT listing the outputs', async () => {
    const res = await injectJson(server, {
      url: '/v2/models/multi_io/infer',
      body: {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
          { name: 'b', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] },
        ],
        outputs: [{ name: 'total' }],
      },
    });
    assertError(res, { code: 'INVALID_OUTPUT', includes: ['unknown output "total"', '"sum"', '"prod"', '"mask"'] });
    await assertServesMlp(server);
  });

  await t.test('statistics grow with requests and report batch sizes', async () => {
    const before = await modelStats(server, 'mlp');
    for (const rows of [1, 3]) {
      const res = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest(rows) });
      assert.equal(res.status, 200);
    }
    const after = await modelStats(server, 'mlp');
    assert.equal(after.inference_count, before.inference_count + 4);
    assert.equal(after.execution_count, before.execution_count + 2);
    const sizes = after.batch_stats.map((b) => b.batch_size);
    assert.ok(sizes.includes(1) && sizes.includes(3), `batch sizes ${sizes.join(',')}`);
    const versioned = await injectJson(server, { url: '/v2/models/mlp/versions/1/stats' });
    assert.equal(versioned.status, 200);
    const row = (
      versioned.json as {
        model_stats: { name: string; version: string; inference_stats: { success: { count: number } } }[];
      }
    ).model_stats[0];
    assert.equal(row?.name, 'mlp');
    assert.equal(row.version, '1');
    assert.ok(row.inference_stats.success.count >= 2);
  });

  await t.test('GET /metrics exposes request, batch and process metrics with model labels', async () => {
    const res = await server.http.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/plain/);
    const text = res.body;
    assert.match(text, /stratum_inference_requests_total\{[^}]*model="mlp"[^}]*outcome="success"[^}]*\} [1-9]/);
    assert.match(text, /stratum_batch_size_bucket\{[^}]*model="mlp"/);
    assert.match(text, /stratum_batch_cut_total\{[^}]*model="mlp"[^}]*reason="[a-z_]+"\} [1-9]/);
    assert.match(text, /stratum_process_cpu_user_seconds_total/);
    assert.match(text, /stratum_process_resident_memory_bytes|stratum_nodejs_heap_size_used_bytes/);
  });
});
