/**
 * The binary tensor data extension in both directions: binary inputs framed by
 * `Inference-Header-Content-Length` and `binary_data_size`, binary outputs asked for with
 * `binary_data_output` or per output `binary_data`, BYTES with 4-byte length prefixes, JSON and
 * binary inputs mixed, and tensors at odd (misaligned) offsets — all equal to the JSON path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose } from '../../helpers/assert-close.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertError,
  assertServesMlp,
  decodeBytesElements,
  encodeBytesElements,
  type InferReply,
  injectBinary,
  mlpRows,
  parseBinaryReply,
  referenceRun,
  TOLERANCE,
  view,
} from './http-test-kit.ts';

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

test('binary tensor extension', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp', 'multi_io', 'bytes_echo'], withoutGrpc: true });

  const rows = mlpRows(3, 11);
  const input = Float32Array.from(rows);
  const jsonReply = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784], data: rows }] },
  });
  assert.equal(jsonReply.status, 200);
  const jsonLogits = (jsonReply.json as InferReply).outputs[0]?.data as number[];
  const reference = await referenceRun('mlp', { input: { type: 'float32', data: input, dims: [3, 784] } });

  await t.test("binary input and binary_data_output give the JSON path's result, bit for bit", async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/mlp/infer',
      header: {
        id: 'bin-1',
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [3, 784], parameters: { binary_data_size: input.byteLength } },
        ],
      },
      blobs: [bytesOf(input)],
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const { json, blobs } = parseBinaryReply(res);
    assert.equal(json.id, 'bin-1');
    const out = json.outputs[0];
    assert.equal(out?.name, 'logits');
    assert.deepEqual(out.shape, [3, 10]);
    assert.deepEqual(out.parameters, { binary_data_size: 3 * 10 * 4 });
    const logits = view(blobs.get('logits') ?? Buffer.alloc(0), Float32Array);
    assert.deepEqual(
      Array.from(logits),
      jsonLogits.map((v) => Math.fround(v)),
    );
    assertClose(Array.from(logits), reference['logits']?.data ?? [], { ...TOLERANCE, label: 'logits' });
  });

  await t.test('binary input with a JSON response', async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/mlp/infer',
      header: {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [3, 784], parameters: { binary_data_size: input.byteLength } },
        ],
      },
      blobs: [bytesOf(input)],
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['inference-header-content-length'], undefined);
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, jsonLogits);
  });

  await t.test('JSON input with a binary response via a per-output binary_data', async () => {
    const res = await injectJson(server, {
      url: '/v2/models/mlp/infer',
      body: {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784], data: rows }],
        outputs: [{ name: 'logits', parameters: { binary_data: true } }],
      },
    });
    assert.equal(res.status, 200);
    const { blobs } = parseBinaryReply(res);
    assert.deepEqual(
      Array.from(view(blobs.get('logits') ?? Buffer.alloc(0), Float32Array)),
      jsonLogits.map((v) => Math.fround(v)),
    );
  });

  await t.test('a per-output binary_data overrides binary_data_output, output by output', async () => {
    const a = Float32Array.from([0.5, -1, 2, -3, 4, 0.25, -0.5, 1]);
    const b = [1, 2, 3, 4, -1, -2, -3, -4];
    const res = await injectJson(server, {
      url: '/v2/models/multi_io/infer',
      body: {
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 4], data: Array.from(a) },
          { name: 'b', datatype: 'INT32', shape: [2, 4], data: b },
        ],
        outputs: [
          { name: 'sum' },
          { name: 'prod', parameters: { binary_data: false } },
          { name: 'mask', parameters: { binary_data: true } },
        ],
      },
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
    const { json, blobs } = parseBinaryReply(res);
    const expected = await referenceRun('multi_io', {
      a: { type: 'float32', data: a, dims: [2, 4] },
      b: { type: 'int32', data: Int32Array.from(b), dims: [2, 4] },
    });
    assert.deepEqual([...blobs.keys()], ['sum', 'mask']);
    assertClose(Array.from(view(blobs.get('sum') ?? Buffer.alloc(0), Float32Array)), expected['sum']?.data ?? [], {
      ...TOLERANCE,
      label: 'sum',
    });
    assert.deepEqual(Array.from(blobs.get('mask') ?? []), expected['mask']?.data.map(Number));
    const prod = json.outputs.find((o) => o.name === 'prod');
    assert.equal(prod?.parameters, undefined);
    assertClose(prod?.data ?? [], expected['prod']?.data ?? [], { ...TOLERANCE, label: 'prod' });
  });

  await t.test('JSON and binary inputs mix in one request', async () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const res = await injectBinary(server, {
      url: '/v2/models/multi_io/infer',
      header: {
        inputs: [
          { name: 'b', datatype: 'INT32', shape: [1, 4], data: [10, 20, 30, 40] },
          { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
        ],
        outputs: [{ name: 'sum' }],
      },
      blobs: [bytesOf(a)],
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, [11, 22, 33, 44]);
  });

  for (const pad of [1, 2, 3, 5, 7]) {
    await t.test(`tensors at misaligned offsets decode correctly (JSON header padded by ${pad})`, async () => {
      // Whitespace after the JSON keeps it valid and shifts every blob by `pad` bytes.
      const a = Float32Array.from([0.1, -0.2, 0.3, -0.4, 1e-3, 2e3, -7, 8]);
      const b = Int32Array.from([5, -6, 7, -8, 2_147_483_647, -2_147_483_648, 0, 1]);
      const res = await injectBinary(server, {
        url: '/v2/models/multi_io/infer',
        header: {
          inputs: [
            { name: 'a', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: 32 } },
            { name: 'b', datatype: 'INT32', shape: [2, 4], parameters: { binary_data_size: 32 } },
          ],
          parameters: { binary_data_output: true },
        },
        blobs: [bytesOf(a), bytesOf(b)],
        padding: ' '.repeat(pad),
      });
      assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
      const { blobs } = parseBinaryReply(res);
      const expected = await referenceRun('multi_io', {
        a: { type: 'float32', data: a, dims: [2, 4] },
        b: { type: 'int32', data: b, dims: [2, 4] },
      });
      assertClose(Array.from(view(blobs.get('sum') ?? Buffer.alloc(0), Float32Array)), expected['sum']?.data ?? [], {
        ...TOLERANCE,
        label: 'sum',
      });
      assertClose(Array.from(view(blobs.get('prod') ?? Buffer.alloc(0), Float64Array)), expected['prod']?.data ?? [], {
        ...TOLERANCE,
        label: 'prod',
      });
      assert.deepEqual(Array.from(blobs.get('mask') ?? []), expected['mask']?.data.map(Number));
    });
  }

  await t.test('an odd-length header before an FP32 MLP batch still matches the JSON path', async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/mlp/infer',
      header: {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [3, 784], parameters: { binary_data_size: input.byteLength } },
        ],
      },
      blobs: [bytesOf(input)],
      padding: '\n',
    });
    assert.equal(res.status, 200);
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, jsonLogits);
  });

  await t.test('BYTES travel in binary as 4-byte little-endian lengths, in and out', async () => {
    const words = ['cat', 'zebra', '', 'fish', 'naïve ✓'];
    const blob = encodeBytesElements(words);
    const res = await injectBinary(server, {
      url: '/v2/models/bytes_echo/infer',
      header: {
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [5, 1], parameters: { binary_data_size: blob.length } }],
        outputs: [{ name: 'echo', parameters: { binary_data: true } }, { name: 'token_id' }],
      },
      blobs: [blob],
      padding: ' ',
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
    const { json, blobs } = parseBinaryReply(res);
    const echo = blobs.get('echo') ?? Buffer.alloc(0);
    assert.ok(echo.equals(blob), 'echo bytes equal the request bytes');
    assert.deepEqual(decodeBytesElements(echo), words);
    const expected = await referenceRun('bytes_echo', { text: { type: 'string', data: words, dims: [5, 1] } });
    const ids = json.outputs.find((o) => o.name === 'token_id');
    assert.equal(ids?.datatype, 'INT64');
    assert.deepEqual(ids.data, expected['token_id']?.data.map(Number));
  });

  await t.test('BYTES sent as JSON and returned as JSON equal the binary round trip', async () => {
    const words = ['dog', 'bird', 'unknown'];
    const res = await injectJson(server, {
      url: '/v2/models/bytes_echo/infer',
      body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [3, 1], data: words }] },
    });
    assert.equal(res.status, 200);
    const outs = new Map((res.json as InferReply).outputs.map((o) => [o.name, o]));
    assert.deepEqual(outs.get('echo')?.data, words);
    assert.deepEqual(outs.get('token_id')?.data, [1, 2, -1]);
  });

  await t.test('a header length equal to the body length means a JSON-only request', async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/multi_io/infer',
      header: {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] },
          { name: 'b', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] },
        ],
        outputs: [{ name: 'sum' }],
      },
      blobs: [],
    });
    assert.equal(res.status, 200);
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, [2, 3, 4, 5]);
  });

  const header = (size: unknown, extra: object = {}): object => ({
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size }, ...extra },
      { name: 'b', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] },
    ],
  });
  const sixteen = new Uint8Array(16);

  await t.test('binary_data_size that does not fit the shape is 400 INVALID_INPUT', async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/multi_io/infer',
      header: header(12),
      blobs: [sixteen.subarray(0, 12)],
    });
    assertError(res, {
      code: 'INVALID_INPUT',
      includes: ['input "a"', 'shape [1,4] of FP32 needs 16 bytes', 'got binary_data_size 12'],
    });
  });

  await t.test('a non-integer binary_data_size is 400 INVALID_PARAMETER', async () => {
    for (const size of [-1, 1.5, '16', true]) {
      const res = await injectBinary(server, {
        url: '/v2/models/multi_io/infer',
        header: header(size),
        blobs: [sixteen],
      });
      assertError(res, {
        code: 'INVALID_PARAMETER',
        includes: ['input "a"', 'binary_data_size must be a non-negative integer'],
      });
    }
  });

  await t.test('binary_data_size without Inference-Header-Content-Length is 400', async () => {
    const res = await injectJson(server, { url: '/v2/models/multi_io/infer', body: header(16) });
    assertError(res, { code: 'BAD_REQUEST', includes: ['input "a"', 'no Inference-Header-Content-Length'] });
  });

  await t.test('both data and binary_data_size on one input is 400', async () => {
    const res = await injectBinary(server, {
      url: '/v2/models/multi_io/infer',
      header: header(16, { data: [1, 2, 3, 4] }),
      blobs: [sixteen],
    });
    assertError(res, { code: 'INVALID_INPUT', includes: ['input "a"', 'both "data" and binary_data_size'] });
  });

  await t.test('BYTES whose lengths do not add up are 400 INVALID_INPUT', async () => {
    const cases: { blob: Buffer; includes: string[] }[] = [
      { blob: Buffer.from([5, 0, 0, 0, 0x61]), includes: ['element 0 claims 5 bytes but only 1 remain'] },
      {
        blob: Buffer.from([1, 0]),
        includes: ['shape [1,1] of BYTES needs at least 4 bytes (4 per element), got binary_data_size 2'],
      },
      {
        blob: Buffer.concat([encodeBytesElements(['cat']), Buffer.from([9])]),
        includes: ['1 bytes left over after 1 BYTES elements'],
      },
    ];
    for (const c of cases) {
      const res = await injectBinary(server, {
        url: '/v2/models/bytes_echo/infer',
        header: {
          inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: c.blob.length } }],
        },
        blobs: [c.blob],
      });
      assertError(res, { code: 'INVALID_INPUT', includes: ['input "text"', ...c.includes] });
    }
    await assertServesMlp(server);
  });

  await t.test('BYTES with a huge shape and few bytes is 400, not a failed allocation', async () => {
    for (const shape of [
      [2 ** 31 - 1, 3],
      [2 ** 31 - 1, 2 ** 31 - 1],
    ]) {
      const res = await injectBinary(server, {
        url: '/v2/models/bytes_echo/infer',
        header: { inputs: [{ name: 'text', datatype: 'BYTES', shape, parameters: { binary_data_size: 5 } }] },
        // One 5-byte element, against billions the shape claims.
        blobs: [encodeBytesElements(['a'])],
      });
      assertError(res, {
        code: 'INVALID_INPUT',
        includes: ['input "text"', `shape [${shape.join(',')}] of BYTES needs at least`, 'got binary_data_size 5'],
      });
    }
    await assertServesMlp(server);
  });
});
