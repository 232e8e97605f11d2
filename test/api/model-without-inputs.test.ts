/**
 * A model without inputs (a graph of constants) is served: its metadata lists no inputs, it is
 * called with `inputs: []` (or no `inputs` at all) over REST and with an empty list over gRPC, and
 * the registry accepts it as an upload.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { attr } from '../../src/onnx/attribute.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { connectGrpc } from '../helpers/grpc-client.ts';
import { api } from '../helpers/management-api.ts';
import { injectJson, startRegistryServer, startTestServer } from '../helpers/test-server.ts';

const VALUES = [1.5, -2, 0.25, 8];

/** y = a constant 2×2 tensor. */
function constantModel(): Uint8Array {
  const graph = new GraphBuilder({ name: 'constant' });
  graph.addNode({
    op: 'Constant',
    inputs: [],
    outputs: ['y'],
    attributes: { value: attr.tensor({ dims: [2, 2], data: Float32Array.from(VALUES) }) },
  });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: [2, 2] });
  return graph.toBytes();
}

test('a model without inputs is served over REST and gRPC', async (t) => {
  const server = await startTestServer(t, {
    fixtures: [],
    async repository(dir) {
      await mkdir(join(dir, 'constant', '1'), { recursive: true });
      await writeFile(join(dir, 'constant', '1', 'model.onnx'), constantModel());
    },
  });

  const meta = await injectJson(server, { url: '/v2/models/constant' });
  assert.equal(meta.status, 200);
  assert.deepEqual((meta.json as { inputs: unknown[] }).inputs, []);
  const index = await injectJson(server, { method: 'POST', url: '/v2/repository/index', body: {} });
  assert.deepEqual(index.json, [{ name: 'constant', version: '1', state: 'READY' }]);

  for (const body of [{ inputs: [] }, {}, { id: 'c1', inputs: [], outputs: [{ name: 'y' }] }]) {
    const res = await injectJson(server, { url: '/v2/models/constant/infer', body });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const out = (res.json as { outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] })
      .outputs;
    assert.deepEqual(out, [{ name: 'y', datatype: 'FP32', shape: [2, 2], data: VALUES }]);
  }
  const extra = await injectJson(server, {
    url: '/v2/models/constant/infer',
    body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] },
  });
  assert.equal(extra.status, 400);
  assert.match(
    (extra.json as { error: string }).error,
    /unexpected input "x": model "constant" version 1 expects \[\]/,
  );

  const call = connectGrpc(t, server.grpcPort);
  const reply = await call<{ outputs: { name: string; shape: string[]; contents: { fp32_contents: number[] } }[] }>(
    'ModelInfer',
    { model_name: 'constant', inputs: [] },
  );
  assert.deepEqual(reply.outputs[0]?.shape, ['2', '2']);
  assert.deepEqual(reply.outputs[0]?.contents.fp32_contents, VALUES);
});

test('the registry accepts a model without inputs and records its empty input list', async (t) => {
  const server = await startRegistryServer(t);
  const res = await api(server, { url: '/api/v1/models/constant/versions', body: constantModel() });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.deepEqual(res.json.signature, { inputs: [], outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 2] }] });
});
