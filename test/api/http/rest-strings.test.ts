import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import { assertError, injectBinary } from './http-test-kit.ts';

test('BYTES elements that string tensors would alter are refused, not silently changed', async (t) => {
  const server = await startTestServer(t, { fixtures: ['bytes_echo'], withoutGrpc: true });
  const nul = await injectJson(server, {
    url: '/v2/models/bytes_echo/infer',
    body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 1], data: ['fine', 'cut\u0000here'] }] },
  });
  assertError(nul, { code: 'INVALID_INPUT', includes: ['input "text"', 'element 1', 'NUL byte'] });

  const invalidUtf8 = Buffer.from([0x04, 0x00, 0x00, 0x00, 0x66, 0xff, 0xfe, 0x67]);
  const res = await injectBinary(server, {
    url: '/v2/models/bytes_echo/infer',
    header: {
      inputs: [
        { name: 'text', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: invalidUtf8.length } },
      ],
    },
    blobs: [invalidUtf8],
  });
  assertError(res, { code: 'INVALID_INPUT', includes: ['input "text"', 'element 0', 'not valid UTF-8'] });

  const ok = await injectJson(server, {
    url: '/v2/models/bytes_echo/infer',
    body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['naïve ✓'] }] },
  });
  assert.equal(ok.status, 200);
  const echo = (ok.json as { outputs: { name: string; data: string[] }[] }).outputs.find((o) => o.name === 'echo');
  assert.deepEqual(echo?.data, ['naïve ✓']);
});
