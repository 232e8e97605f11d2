/**
 * Every way an inference request can be wrong, each answered with the catalogue's status and a
 * JSON `error` that names the input and says what was expected and what was received — and the
 * server keeps serving good requests afterwards. Covers body framing, the request schema, the
 * model's signature, tensor data, size limits, request parameters, queue timeouts, a full queue
 * and models that are loading or unloaded.
 */
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { seededRandom } from '../../../src/onnx/fixtures/seeded-random.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertError,
  assertServesMlp,
  binaryBody,
  encodeBytesElements,
  injectBinary,
  mlpRequest,
  mlpRows,
  type Reply,
} from './http-test-kit.ts';

const MLP = '/v2/models/mlp/infer';
const MULTI = '/v2/models/multi_io/infer';
const MULTI_SPECS = '"a" FP32 [-1,4], "b" INT32 [-1,4]';

const multiInputs = (rows = 1): object[] => [
  { name: 'a', datatype: 'FP32', shape: [rows, 4], data: new Array<number>(rows * 4).fill(1) },
  { name: 'b', datatype: 'INT32', shape: [rows, 4], data: new Array<number>(rows * 4).fill(2) },
];

const mlpInput = (patch: object): object => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data: mlpRows(2), ...patch }],
});

const postRaw = (
  server: Parameters<typeof injectJson>[0],
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> => injectJson(server, { url: MLP, body, headers });

test('bad requests get 4xx with a message naming what was wrong', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp', 'multi_io', 'all_types'], withoutGrpc: true });

  await t.test('malformed JSON is 400 INVALID_JSON', async () => {
    for (const body of ['{"inputs": [', '{inputs: []}', 'nope', '{"inputs": []}}']) {
      assertError(await postRaw(server, body), { code: 'INVALID_JSON', includes: ['not valid JSON'] });
    }
    await assertServesMlp(server);
  });

  await t.test('an empty body is 400 BAD_REQUEST asking for JSON with inputs', async () => {
    assertError(await postRaw(server, ''), { code: 'BAD_REQUEST', includes: ['no body', '"inputs"'] });
  });

  await t.test('a body that is not a request object is 400 naming the problem', async () => {
    assertError(await injectJson(server, { url: MLP, body: {} }), {
      code: 'INVALID_INPUT',
      includes: ['missing input "input"'],
    });
    // An empty list is a valid envelope (a model without inputs takes it); this model needs one.
    assertError(await injectJson(server, { url: MLP, body: { inputs: [] } }), {
      code: 'INVALID_INPUT',
      includes: ['missing input "input"', '"input" FP32 [-1,784]'],
    });
    assertError(await injectJson(server, { url: MLP, body: { inputs: {} } }), {
      code: 'BAD_REQUEST',
      includes: ['inputs'],
    });
    for (const body of ['[]', 'null', '"x"', '42']) {
      assertError(await postRaw(server, body), { code: 'BAD_REQUEST', includes: ['invalid inference request'] });
    }
    assertError(await injectJson(server, { url: MLP, body: { ...mlpRequest(), id: 7 } }), {
      code: 'BAD_REQUEST',
      includes: ['id'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ shape: [2, '784'] }) }), {
      code: 'BAD_REQUEST',
      includes: ['input "input": shape[1] must be an integer, got string "784"'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ shape: [2, -784] }) }), {
      code: 'BAD_REQUEST',
      includes: ['input "input": shape[1] must be ≥ 0, got -784'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ shape: [2, 1.5] }) }), {
      code: 'BAD_REQUEST',
      includes: ['input "input": shape[1] must be an integer, got 1.5'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ datatype: 7 }) }), {
      code: 'BAD_REQUEST',
      includes: ['input "input": datatype must be a datatype name such as "FP32", got 7'],
    });
    assertError(
      await injectJson(server, { url: MLP, body: { ...mlpRequest(), outputs: [{ name: 'logits', parameters: 3 }] } }),
      {
        code: 'BAD_REQUEST',
        includes: ['output "logits": parameters'],
      },
    );
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ name: '' }) }), {
      code: 'BAD_REQUEST',
      // No name to give: the input is named by its position.
      includes: ['inputs[0]: name must be a non-empty string'],
    });
    assertError(await injectJson(server, { url: MLP, body: { ...mlpRequest(), parameters: { nested: { a: 1 } } } }), {
      code: 'BAD_REQUEST',
      includes: ['parameters.nested'],
    });
    await assertServesMlp(server);
  });

  await t.test('an unknown model is 404 and an unknown version 404', async () => {
    assertError(await injectJson(server, { url: '/v2/models/ghost/infer', body: mlpRequest() }), {
      code: 'MODEL_NOT_FOUND',
      includes: ['"ghost"'],
    });
    assertError(await injectJson(server, { url: '/v2/models/mlp/versions/2/infer', body: mlpRequest() }), {
      code: 'VERSION_NOT_FOUND',
      includes: ['"mlp"', 'no version "2"'],
    });
    assertError(await injectJson(server, { url: '/v2/models/mlp/versions/abc/infer', body: mlpRequest() }), {
      code: 'VERSION_NOT_FOUND',
      includes: ['"abc"'],
    });
  });

  await t.test('a missing input is 400 naming it and listing the expected inputs', async () => {
    const res = await injectJson(server, { url: MULTI, body: { inputs: multiInputs().slice(0, 1) } });
    assertError(res, { code: 'INVALID_INPUT', includes: ['missing input "b"', MULTI_SPECS] });
  });

  await t.test('an extra input is 400 naming it and listing the expected inputs', async () => {
    const res = await injectJson(server, {
      url: MULTI,
      body: { inputs: [...multiInputs(), { name: 'c', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] },
    });
    assertError(res, { code: 'INVALID_INPUT', includes: ['unexpected input "c"', MULTI_SPECS] });
  });

  await t.test('a misnamed input is 400 naming it and listing the expected inputs', async () => {
    const res = await injectJson(server, { url: MLP, body: mlpInput({ name: 'inputs' }) });
    assertError(res, {
      code: 'INVALID_INPUT',
      includes: ['unexpected input "inputs"', 'model "mlp" version 1 expects', '"input" FP32 [-1,784]'],
    });
  });

  await t.test('an input given twice is 400', async () => {
    const [a] = multiInputs();
    const res = await injectJson(server, { url: MULTI, body: { inputs: [...multiInputs(), a] } });
    assertError(res, { code: 'INVALID_INPUT', includes: ['input "a" is given more than once'] });
  });

  await t.test('a wrong datatype is 400 "expected datatype FP32, got INT32"', async () => {
    const res = await injectJson(server, {
      url: MLP,
      body: mlpInput({ datatype: 'INT32', data: new Array<number>(1568).fill(1) }),
    });
    assertError(res, { code: 'INVALID_INPUT', includes: ['input "input"', 'expected datatype FP32, got INT32'] });
    const unknown = await injectJson(server, { url: MLP, body: mlpInput({ datatype: 'FLOAT32' }) });
    assertError(unknown, { code: 'INVALID_INPUT', includes: ['input "input"', 'unknown datatype "FLOAT32"', 'FP32'] });
  });

  await t.test('a shape mismatch is 400 "expected shape [-1,784], got [2,783]"', async () => {
    const res = await injectJson(server, {
      url: MLP,
      body: mlpInput({ shape: [2, 783], data: new Array<number>(2 * 783).fill(0) }),
    });
    assertError(res, { code: 'INVALID_INPUT', includes: ['input "input"', 'expected shape [-1,784], got [2,783]'] });
    const rank = await injectJson(server, {
      url: MLP,
      body: mlpInput({ shape: [1568], data: new Array<number>(1568).fill(0) }),
    });
    assertError(rank, { code: 'INVALID_INPUT', includes: ['expected shape [-1,784], got [1568]'] });
  });

  await t.test('data whose length is not the product of the shape is 400', async () => {
    const res = await injectJson(server, { url: MLP, body: mlpInput({ data: mlpRows(2).slice(1) }) });
    assertError(res, {
      code: 'INVALID_INPUT',
      includes: ['input "input"', 'shape [2,784] needs 1568 elements, got 1567'],
    });
    const nested = await injectJson(server, { url: MLP, body: mlpInput({ data: [mlpRows(1), mlpRows(1).slice(3)] }) });
    assertError(nested, { code: 'INVALID_INPUT', includes: ['needs 1568 elements, got 1565'] });
  });

  await t.test('data that is not an array, or nested too deeply, is 400', async () => {
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ data: 'zeros' }) }), {
      code: 'INVALID_INPUT',
      includes: ['input "input"', '"data" must be an array, got string "zeros"'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ data: undefined }) }), {
      code: 'INVALID_INPUT',
      includes: ['input "input"', 'has no "data"'],
    });
    let deep: unknown = [1];
    for (let i = 0; i < 40; i++) deep = [deep];
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ data: deep }) }), {
      code: 'INVALID_INPUT',
      includes: ['nested more than 32 levels'],
    });
  });

  await t.test('a non-numeric value in a numeric tensor is 400 naming the element index', async () => {
    const data = mlpRows(2);
    data[5] = 'x' as unknown as number;
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ data }) }), {
      code: 'INVALID_INPUT',
      includes: ['input "input"', 'element 5 of "data" must be a number, got string "x"'],
    });
    const mixed = [0, [1, 2], ...new Array<number>(1566).fill(0)];
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ data: mixed }) }), {
      code: 'INVALID_INPUT',
      includes: ['element 1 of "data" must be a number, got an array'],
    });
  });

  await t.test('an out-of-range INT8 value is 400 naming the element, range and value', async () => {
    const inputs = [
      'bool',
      'uint8',
      'uint16',
      'uint32',
      'uint64',
      'int8',
      'int16',
      'int32',
      'int64',
      'fp32',
      'fp64',
    ].map((s) => ({
      name: `in_${s}`,
      datatype: s.toUpperCase(),
      shape: [1, 3],
      data: s === 'bool' ? [true, false, true] : s === 'int8' ? [1, 200, 3] : [1, 2, 3],
    }));
    const res = await injectJson(server, { url: '/v2/models/all_types/infer', body: { inputs } });
    assertError(res, {
      code: 'INVALID_INPUT',
      includes: ['input "in_int8"', 'element 1', 'an integer in [-128, 127] for INT8', 'got number 200'],
    });
  });

  await t.test('a batch dimension of 0, over maxBatchSize, or disagreeing between inputs is 400', async () => {
    assertError(await injectJson(server, { url: MLP, body: mlpInput({ shape: [0, 784], data: [] }) }), {
      code: 'INVALID_INPUT',
      includes: ['input "input"', 'batch dimension must be at least 1, got 0'],
    });
    assertError(await injectJson(server, { url: MLP, body: mlpRequest(65) }), {
      code: 'INVALID_INPUT',
      includes: ['65 rows', 'at most 64 (maxBatchSize)'],
    });
    const [a, b] = multiInputs(2);
    const res = await injectJson(server, {
      url: MULTI,
      body: { inputs: [a, { ...(b as object), shape: [1, 4], data: [1, 2, 3, 4] }] },
    });
    assertError(res, {
      code: 'INVALID_INPUT',
      includes: ['inputs "a" and "b" disagree on the batch dimension: 2 and 1'],
    });
  });

  await t.test('request parameters with wrong types or values are 400 INVALID_PARAMETER', async () => {
    const cases: { parameters: object; includes: string[] }[] = [
      { parameters: { priority: 0 }, includes: ['"priority"', 'got 0'] },
      { parameters: { priority: 3 }, includes: ['"priority"', '1 (highest) to 2', 'got 3'] },
      { parameters: { priority: 'high' }, includes: ['"priority"', 'string "high"'] },
      { parameters: { priority: 1.5 }, includes: ['"priority"', 'number 1.5'] },
      { parameters: { priority: -1 }, includes: ['"priority"', 'number -1'] },
      { parameters: { timeout: -5 }, includes: ['"timeout"', 'number -5'] },
      { parameters: { timeout: 'soon' }, includes: ['"timeout"', 'string "soon"'] },
      // Beyond Node's timer range a timeout would fire after 1 ms instead of never.
      {
        parameters: { timeout: 1e17 },
        includes: ['"timeout" must be at most 2147483647000 µs', 'got 100000000000000000'],
      },
      {
        parameters: { binary_data_output: 'yes' },
        includes: ['"binary_data_output"', 'true or false', 'string "yes"'],
      },
    ];
    for (const c of cases) {
      assertError(await injectJson(server, { url: MLP, body: { ...mlpRequest(), parameters: c.parameters } }), {
        code: 'INVALID_PARAMETER',
        includes: c.includes,
      });
    }
    const perOutput = await injectJson(server, {
      url: MLP,
      body: { ...mlpRequest(), outputs: [{ name: 'logits', parameters: { binary_data: 1 } }] },
    });
    assertError(perOutput, { code: 'INVALID_PARAMETER', includes: ['output "logits"', '"binary_data"', 'number 1'] });
    const ok = await injectJson(server, {
      url: MLP,
      body: { ...mlpRequest(), parameters: { priority: 1, timeout: 10_000_000 } },
    });
    assert.equal(ok.status, 200);
  });

  await t.test('binary framing errors are 400 saying what does not add up', async () => {
    const floats = new Uint8Array(Float32Array.from(mlpRows(1)).buffer);
    const header = {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 3136 } }],
    };
    const { body, headerLength } = binaryBody(header, [floats]);
    const longer = await postRaw(server, body, { 'inference-header-content-length': String(body.length + 1) });
    assertError(longer, {
      code: 'BAD_REQUEST',
      includes: [`Inference-Header-Content-Length is ${body.length + 1}`, `only ${body.length} bytes`],
    });
    for (const value of ['abc', '-1', '1.5']) {
      const bad = await postRaw(server, body, { 'inference-header-content-length': value });
      assertError(bad, {
        code: 'BAD_REQUEST',
        includes: ['Inference-Header-Content-Length must be a non-negative integer', `"${value}"`],
      });
    }
    const cut = await postRaw(server, body, { 'inference-header-content-length': String(headerLength - 3) });
    assertError(cut, { code: 'INVALID_JSON', includes: ['not valid JSON'] });
    const short = await injectBinary(server, { url: MLP, header, blobs: [floats.subarray(0, 3000)] });
    assertError(short, {
      code: 'BAD_REQUEST',
      includes: ['input "input"', 'binary_data_size 3136 runs past the end of the body (3000 bytes left)'],
    });
    const leftover = await injectBinary(server, { url: MLP, header, blobs: [floats, new Uint8Array(5)] });
    assertError(leftover, { code: 'BAD_REQUEST', includes: ['5 bytes after the JSON header', 'binary_data_size'] });
    const jsonWithTail = await injectBinary(server, { url: MLP, header: mlpRequest(), blobs: [new Uint8Array(3)] });
    assertError(jsonWithTail, { code: 'BAD_REQUEST', includes: ['3 bytes after the JSON header'] });
    await assertServesMlp(server);
  });

  await t.test('a model that is unloaded is 503 MODEL_NOT_READY; loading it again serves again', async () => {
    const unload = await injectJson(server, { url: '/v2/repository/models/multi_io/unload', body: {} });
    assert.equal(unload.status, 200);
    const res = await injectJson(server, { url: MULTI, body: { inputs: multiInputs() } });
    assertError(res, { code: 'MODEL_NOT_READY', includes: ['model "multi_io"', 'no ready version', 'unloaded'] });
    assert.equal(res.headers['retry-after'], '1');
    const ready = await injectJson(server, { url: '/v2/models/multi_io/ready' });
    assert.equal(ready.status, 400);
    assert.deepEqual(ready.json, { name: 'multi_io', ready: false });
    const load = await injectJson(server, { url: '/v2/repository/models/multi_io/load', body: {} });
    assert.equal(load.status, 200);
    const again = await injectJson(server, { url: MULTI, body: { inputs: multiInputs() } });
    assert.equal(again.status, 200);
  });

  await t.test('a model that is still loading is 503 MODEL_NOT_READY "is loading"', async () => {
    // A copy of all_types that warms up at many batch sizes, so its load takes a while.
    await cp(join(server.dir, 'all_types'), join(server.dir, 'slow_types'), { recursive: true });
    await writeFile(
      join(server.dir, 'slow_types', 'config.json'),
      JSON.stringify({ warmup: { batchSizes: [1, 2, 4, 8, 16, 32, 64, 1, 2, 4, 8, 16, 32, 64] } }),
    );
    const loading = injectJson(server, { url: '/v2/repository/models/slow_types/load', body: {} });
    // Asks on every turn of the event loop until the load has finished (a fixed number of
    // turns could all pass before the load even started on a busy machine).
    let finished = false;
    const loaded = loading.finally(() => {
      finished = true;
    });
    const seen: Reply[] = [];
    while (!finished) {
      const res = await injectJson(server, { url: '/v2/models/slow_types/ready' });
      if (res.status === 400) {
        seen.push(
          await injectJson(server, {
            url: '/v2/models/slow_types/infer',
            body: { inputs: [{ name: 'in_fp32', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
          }),
        );
      }
      if (res.status === 200) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await loaded).status, 200);
    const notReady = seen.find((r) => r.status === 503);
    assert.ok(notReady, `saw ${seen.map((r) => r.status).join(',')}`);
    assertError(notReady, { code: 'MODEL_NOT_READY', includes: ['model "slow_types" is loading'] });
  });

  await t.test('GET on the infer route is a JSON 404', async () => {
    assertError(await injectJson(server, { url: MLP }), { code: 'NOT_FOUND', includes: ['GET', MLP] });
    await assertServesMlp(server);
  });
});

test('size limits answer 413', async (t) => {
  const server = await startTestServer(t, {
    fixtures: ['multi_io', 'bytes_echo'],
    overrides: { bodyLimitBytes: 4096, maxBytesElementBytes: 16 },
    withoutGrpc: true,
  });
  const serves = async (): Promise<void> => {
    const res = await injectJson(server, { url: MULTI, body: { inputs: multiInputs() } });
    assert.equal(res.status, 200);
  };

  await t.test('a body over bodyLimitBytes is 413 BODY_TOO_LARGE naming the limit', async () => {
    assertError(await injectJson(server, { url: MULTI, body: { inputs: multiInputs(300) } }), {
      code: 'BODY_TOO_LARGE',
      includes: ['over the 4096-byte limit'],
    });
    await serves();
  });

  await t.test('a BYTES element over maxBytesElementBytes is 413, in JSON and in binary', async () => {
    const long = 'x'.repeat(17);
    const json = await injectJson(server, {
      url: '/v2/models/bytes_echo/infer',
      body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 1], data: ['ok', long] }] },
    });
    assertError(json, {
      code: 'BODY_TOO_LARGE',
      includes: ['input "text"', 'element 1 is 17 bytes', 'over the 16-byte limit'],
    });
    const blob = encodeBytesElements([long]);
    const binary = await injectBinary(server, {
      url: '/v2/models/bytes_echo/infer',
      header: {
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: blob.length } }],
      },
      blobs: [blob],
    });
    assertError(binary, {
      code: 'BODY_TOO_LARGE',
      includes: ['input "text"', 'element 0 is 17 bytes', 'over the 16-byte limit'],
    });
    // A multi-byte character counts by its UTF-8 bytes: 6 × 3 bytes = 18.
    const utf8 = await injectJson(server, {
      url: '/v2/models/bytes_echo/infer',
      body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['✓✓✓✓✓✓'] }] },
    });
    assertError(utf8, { code: 'BODY_TOO_LARGE', includes: ['element 0 is 18 bytes'] });
    const ok = await injectJson(server, {
      url: '/v2/models/bytes_echo/infer',
      body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['x'.repeat(16)] }] },
    });
    assert.equal(ok.status, 200);
    await serves();
  });
});

test('overload answers 503', async (t) => {
  // The transformer holds what it is sent for 2 s (the 65 rows below stay under its batch size),
  // so a request with a 1 µs timeout provably expires in the queue: it no longer depends on the
  // busy requests still running when it arrives.
  const server = await startTestServer(t, {
    fixtures: ['mlp', 'transformer'],
    modelConfigs: {
      mlp: { dynamicBatching: { maxQueueSize: 1 }, instances: 1 },
      transformer: { instances: 1, maxBatchSize: 128, dynamicBatching: { maxQueueDelayMicroseconds: 2_000_000 } },
    },
    overrides: { runtime: { workers: 1 } },
    withoutGrpc: true,
  });

  await t.test('a timeout that expires in the queue is 503 QUEUE_TIMEOUT', async () => {
    const tokens = seededRandom(7).uniform({ length: 16 * 64 * 128, limit: 1 });
    const big = {
      inputs: [
        { name: 'tokens', datatype: 'FP32', shape: [16, 64, 128], parameters: { binary_data_size: tokens.byteLength } },
      ],
      parameters: { binary_data_output: true },
    };
    const url = '/v2/models/transformer/infer';
    const busy = Array.from({ length: 4 }, () =>
      injectBinary(server, { url, header: big, blobs: [new Uint8Array(tokens.buffer)] }),
    );
    const one = tokens.subarray(0, 64 * 128);
    const late = injectBinary(server, {
      url,
      header: {
        inputs: [
          { name: 'tokens', datatype: 'FP32', shape: [1, 64, 128], parameters: { binary_data_size: one.byteLength } },
        ],
        parameters: { timeout: 1 },
      },
      blobs: [new Uint8Array(one.buffer, one.byteOffset, one.byteLength)],
    });
    const res = await late;
    assertError(res, {
      code: 'QUEUE_TIMEOUT',
      includes: ['timeout of 1 µs expired', 'in the queue of model "transformer" version 1'],
    });
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200);
  });

  await t.test('a full queue is 503 QUEUE_FULL with Retry-After', async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => injectJson(server, { url: MLP, body: mlpRequest(4, i) })),
    );
    const full = replies.filter((r) => r.status === 503);
    assert.ok(full.length > 0, 'some requests were refused');
    assert.ok(
      replies.some((r) => r.status === 200),
      'some requests were served',
    );
    for (const r of replies) assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
    for (const r of full) {
      assertError(r, {
        code: 'QUEUE_FULL',
        includes: ['queue of model "mlp" version 1 is full (1 requests)', 'retry later'],
      });
      assert.equal(r.headers['retry-after'], '1');
    }
    await assertServesMlp(server);
  });
});
