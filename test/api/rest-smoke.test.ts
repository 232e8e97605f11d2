import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectJson, startTestServer } from '../helpers/test-server.ts';

test('the MLP answers a JSON inference with logits of shape [2,10]', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'], withoutGrpc: true });
  const data = Array.from({ length: 2 * 784 }, (_, i) => (i % 7) / 7);
  const res = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { id: 'r1', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data }] },
  });
  assert.equal(res.status, 200);
  const body = res.json as {
    id: string;
    model_name: string;
    outputs: { name: string; shape: number[]; data: number[] }[];
  };
  assert.equal(body.id, 'r1');
  assert.equal(body.model_name, 'mlp');
  assert.deepEqual(body.outputs[0]?.shape, [2, 10]);
  assert.equal(body.outputs[0]?.data.length, 20);
});
