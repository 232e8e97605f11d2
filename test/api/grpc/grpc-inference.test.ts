import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/onnx/graph-builder.ts';
import { FIXTURES } from '../../../src/onnx/fixtures.ts';
import { connectGrpc } from '../../helpers/grpc-client.ts';
import { startTestServer } from '../../helpers/test-server.ts';

const closeTo = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `element ${i}: ${a} vs ${e}`);
  }
};

test('gRPC health, metadata and readiness', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  const call = connectGrpc(t, server.grpcPort);
  assert.deepEqual(await call('ServerLive', {}), { live: true });
  assert.deepEqual(await call('ServerReady', {}), { ready: true });
  assert.deepEqual(await call('ModelReady', { name: 'mlp', version: '' }), { ready: true });
  const meta = await call<{ extensions: string[]; name: string }>('ServerMetadata', {});
  assert.equal(meta.name, 'stratum');
  assert.ok(meta.extensions.includes('binary_tensor_data'));
  const model = await call<{
    versions: string[];
    platform: string;
    inputs: { name: string; datatype: string; shape: string[] }[];
  }>('ModelMetadata', { name: 'mlp' });
  assert.deepEqual(model.versions, ['1']);
  assert.equal(model.platform, 'onnxruntime_onnx');
  assert.deepEqual(model.inputs, [{ name: 'input', datatype: 'FP32', shape: ['-1', '784'] }]);
  await assert.rejects(
    call('ModelMetadata', { name: 'nope' }),
    (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && /unknown model "nope"/.test(e.details),
  );
  await assert.rejects(
    call('ModelReady', { name: 'mlp', version: '9' }),
    (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
  );
});

test('gRPC ModelInfer with typed contents and with raw contents equals onnxruntime run directly', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  const call = connectGrpc(t, server.grpcPort);
  const session = await ort.InferenceSession.create(FIXTURES.mlp.build());
  t.after(() => session.release());
  const data = Float32Array.from({ length: 3 * 784 }, (_, i) => Math.cos(i) * 0.5);
  const direct = (await session.run({ input: new ort.Tensor('float32', data, [3, 784]) }))['logits']
    ?.data as Float32Array;

  const typed = await call<{
    id: string;
    model_version: string;
    outputs: { name: string; shape: string[]; contents: { fp32_contents: number[] } }[];
  }>('ModelInfer', {
    model_name: 'mlp',
    id: 'g1',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784], contents: { fp32_contents: Array.from(data) } }],
  });
  assert.equal(typed.id, 'g1');
  assert.equal(typed.model_version, '1');
  assert.deepEqual(typed.outputs[0]?.shape, ['3', '10']);
  closeTo(typed.outputs[0]?.contents.fp32_contents ?? [], direct);

  const raw = await call<{ outputs: { name: string; datatype: string }[]; raw_output_contents: Buffer[] }>(
    'ModelInfer',
    {
      model_name: 'mlp',
      model_version: '1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784] }],
      raw_input_contents: [Buffer.from(data.buffer)],
    },
  );
  assert.equal(raw.outputs[0]?.datatype, 'FP32');
  const bytes = raw.raw_output_contents[0] as Buffer;
  closeTo(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), direct);
});

test('gRPC carries integer, boolean and string tensors in typed contents', async (t) => {
  const server = await startTestServer(t, { fixtures: ['multi_io', 'bytes_echo'] });
  const call = connectGrpc(t, server.grpcPort);
  const res = await call<{ outputs: { name: string; datatype: string; contents: Record<string, unknown[]> }[] }>(
    'ModelInfer',
    {
      model_name: 'multi_io',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, -2, 3, -4] } },
        { name: 'b', datatype: 'INT32', shape: [1, 4], contents: { int_contents: [10, 20, 30, 40] } },
      ],
      outputs: [{ name: 'mask' }, { name: 'sum' }],
    },
  );
  assert.deepEqual(
    res.outputs.map((o) => o.name),
    ['mask', 'sum'],
  );
  assert.deepEqual(res.outputs[0]?.contents['bool_contents'], [true, false, true, false]);
  assert.deepEqual(res.outputs[1]?.contents['fp32_contents'], [11, 18, 33, 36]);

  const echo = await call<{
    outputs: { name: string; contents: { bytes_contents: Buffer[]; int64_contents: string[] } }[];
  }>('ModelInfer', {
    model_name: 'bytes_echo',
    inputs: [
      {
        name: 'text',
        datatype: 'BYTES',
        shape: [2, 1],
        contents: { bytes_contents: [Buffer.from('dog'), Buffer.from('zebra')] },
      },
    ],
  });
  const byName = Object.fromEntries(echo.outputs.map((o) => [o.name, o.contents]));
  assert.deepEqual(
    byName['echo']?.bytes_contents.map((b) => b.toString()),
    ['dog', 'zebra'],
  );
  assert.equal(byName['token_id']?.int64_contents.length, 2);
  assert.equal(byName['token_id']?.int64_contents[1], '-1', 'an unknown word maps to -1');
});

test('gRPC errors carry the right status code and a message naming the problem', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  const call = connectGrpc(t, server.grpcPort);
  const cases: [object, number, RegExp][] = [
    [
      {
        model_name: 'nope',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [1] } }],
      },
      grpc.status.NOT_FOUND,
      /unknown model "nope"/,
    ],
    [
      {
        model_name: 'mlp',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 783], contents: { fp32_contents: new Array(783).fill(0) } },
        ],
      },
      grpc.status.INVALID_ARGUMENT,
      /expected shape \[-1,784\], got \[1,783\]/,
    ],
    [
      {
        model_name: 'mlp',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: [1, 2] } }],
      },
      grpc.status.INVALID_ARGUMENT,
      /needs 784 elements, got 2/,
    ],
    [
      {
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: new Array(784).fill(0) } }],
      },
      grpc.status.INVALID_ARGUMENT,
      /unexpected input "x"/,
    ],
    [
      {
        model_name: 'mlp',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784] }],
        raw_input_contents: [Buffer.alloc(12)],
      },
      grpc.status.INVALID_ARGUMENT,
      /needs 3136 bytes/,
    ],
    [{ model_name: 'mlp', inputs: [] }, grpc.status.INVALID_ARGUMENT, /missing input "input"/],
    [
      { model_name: 'mlp', inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 784], contents: {} }] },
      grpc.status.UNIMPLEMENTED,
      /raw_input_contents/,
    ],
  ];
  for (const [request, code, message] of cases) {
    await assert.rejects(call('ModelInfer', request), (e: grpc.ServiceError) => {
      assert.equal(e.code, code, e.details);
      assert.match(e.details, message);
      return true;
    });
  }
  const ok = await call<{ outputs: unknown[] }>('ModelInfer', {
    model_name: 'mlp',
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: new Array(784).fill(0.1) } },
    ],
  });
  assert.equal(ok.outputs.length, 1, 'the server still serves after the errors');
});

test('REST and gRPC share one batcher and one set of metrics', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  const call = connectGrpc(t, server.grpcPort);
  const input = new Array(784).fill(0.25);
  await call('ModelInfer', {
    model_name: 'mlp',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: input } }],
  });
  const rest = await server.http.inject({
    method: 'POST',
    url: '/v2/models/mlp/infer',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: input }] }),
  });
  assert.equal(rest.statusCode, 200);
  const stats = server.service.statistics('mlp').model_stats[0];
  assert.equal(stats?.inference_stats.success.count, 2);
  const metrics = await server.metrics.render();
  assert.match(
    metrics,
    /stratum_inference_requests_total\{model="mlp",version="1",protocol="grpc",outcome="success",reason=""\} 1/,
  );
  assert.match(
    metrics,
    /stratum_inference_requests_total\{model="mlp",version="1",protocol="rest",outcome="success",reason=""\} 1/,
  );
});

test('gRPC 64-bit integers keep every digit beyond 2^53', async (t) => {
  const graph = new GraphBuilder({ name: 'int64_echo' });
  graph.addInput({ name: 'i', type: 'INT64', shape: ['batch', 3] });
  graph.addInput({ name: 'u', type: 'UINT64', shape: ['batch', 3] });
  graph.addNode({ op: 'Identity', inputs: ['i'], outputs: ['i_out'] });
  graph.addNode({ op: 'Identity', inputs: ['u'], outputs: ['u_out'] });
  graph.addOutput({ name: 'i_out', type: 'INT64', shape: ['batch', 3] });
  graph.addOutput({ name: 'u_out', type: 'UINT64', shape: ['batch', 3] });
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  await mkdir(join(server.dir, 'int64_echo', '1'), { recursive: true });
  await writeFile(join(server.dir, 'int64_echo', '1', 'model.onnx'), graph.toBytes());
  await server.service.manager?.loadModel('int64_echo');
  const call = connectGrpc(t, server.grpcPort);
  const big = ['9007199254740993', '-9223372036854775808', '9223372036854775807'];
  const ubig = ['18446744073709551615', '9007199254740993', '0'];
  const res = await call<{
    outputs: { name: string; contents: { int64_contents: string[]; uint64_contents: string[] } }[];
  }>('ModelInfer', {
    model_name: 'int64_echo',
    inputs: [
      { name: 'i', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: big } },
      { name: 'u', datatype: 'UINT64', shape: [1, 3], contents: { uint64_contents: ubig } },
    ],
  });
  assert.deepEqual(res.outputs[0]?.contents.int64_contents, big);
  assert.deepEqual(res.outputs[1]?.contents.uint64_contents, ubig);
});
