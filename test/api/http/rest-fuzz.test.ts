/**
 * Property-based fuzzing of the REST inference route with fast-check: random JSON, random bytes,
 * mutated valid requests and random binary-extension framing, thrown at a real server in-process.
 * Whatever arrives, the answer is a 200 with a well-formed body or a client error with a JSON
 * `error` — never a 500, never a crash — and a valid request still succeeds afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../src/errors/codes.ts';
import { DATATYPE_NAMES } from '../../../src/tensor/datatypes.ts';
import type { StratumServer } from '../../../src/server/stratum-server.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertServesMlp,
  encodeBytesElements,
  type InferReply,
  injectBinary,
  mlpRows,
  type Reply,
  referenceRun,
} from './http-test-kit.ts';

const MODELS = ['mlp', 'multi_io', 'all_types', 'bytes_echo', 'fixed_batch'] as const;
const URLS = [
  ...MODELS.map((m) => `/v2/models/${m}/infer`),
  '/v2/models/multi_io/versions/1/infer',
  '/v2/models/ghost/infer',
  '/v2/models/mlp/versions/9/infer',
];

/** 503 is allowed only for overload; 501 only for FP16 sent or asked for as JSON. */
const OVERLOAD = new Set(['QUEUE_FULL', 'QUEUE_TIMEOUT']);

/** Asserts a reply is a well-formed success or a well-formed client error. */
function assertWellFormed(res: Reply, sent: string): void {
  const context = `${res.status} ${res.raw.toString('utf8').slice(0, 200)} ← ${sent.slice(0, 300)}`;
  if (res.status === 200) {
    const headerLength = res.headers['inference-header-content-length'];
    const text =
      headerLength === undefined
        ? res.raw.toString('utf8')
        : res.raw.subarray(0, Number(headerLength)).toString('utf8');
    const body = JSON.parse(text) as { outputs?: unknown };
    assert.ok(Array.isArray(body.outputs), context);
    return;
  }
  const body = res.json as { error?: unknown; code?: unknown } | undefined;
  assert.ok(
    body !== undefined && typeof body.error === 'string' && body.error.length > 0,
    `JSON error body: ${context}`,
  );
  assert.equal(typeof body.code, 'string', context);
  const code = body.code as keyof typeof ERROR_CODES;
  assert.ok(Object.hasOwn(ERROR_CODES, code), `catalogued code: ${context}`);
  assert.equal(ERROR_CODES[code].http, res.status, `status of ${code}: ${context}`);
  const clientError = res.status >= 400 && res.status < 500;
  const overload = res.status === 503 && OVERLOAD.has(code);
  const unsupported = res.status === 501 && code === 'UNSUPPORTED';
  assert.ok(clientError || overload || unsupported, `unexpected status: ${context}`);
}

/** Valid requests to mutate, one per model. */
const SEEDS: readonly { url: string; body: Record<string, unknown> }[] = [
  {
    url: '/v2/models/mlp/infer',
    body: { id: 'm', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: mlpRows(1) }] },
  },
  {
    url: '/v2/models/multi_io/infer',
    body: {
      parameters: { priority: 1 },
      inputs: [
        {
          name: 'a',
          datatype: 'FP32',
          shape: [2, 4],
          data: [
            [1, -2, 3, 4],
            [0.5, 0, -1, 9],
          ],
        },
        { name: 'b', datatype: 'INT32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] },
      ],
      outputs: [{ name: 'sum' }, { name: 'mask', parameters: { binary_data: true } }],
    },
  },
  {
    url: '/v2/models/bytes_echo/infer',
    body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [3, 1], data: ['cat', 'zebra', ''] }] },
  },
  {
    url: '/v2/models/fixed_batch/infer',
    body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }] },
  },
  {
    url: '/v2/models/all_types/infer',
    body: {
      inputs: ['bool', 'uint8', 'int8', 'int64', 'uint64', 'fp64', 'bytes'].map((s) => ({
        name: `in_${s}`,
        datatype: s.toUpperCase(),
        shape: [1, 3],
        data: s === 'bool' ? [true, false, true] : s === 'bytes' ? ['a', 'b', 'c'] : [1, 2, 3],
      })),
    },
  },
];

/** Values a mutation may put anywhere: edge numbers, datatype names, wrong types. */
const INTERESTING = fc.constantFrom<unknown>(
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  1e308,
  -0,
  '',
  'x',
  'FP16',
  'BYTES',
  'FP32',
  'INT8',
  null,
  true,
  false,
  [],
  {},
  [[]],
  [[[1]]],
  [2 ** 31 - 1, 2 ** 31 - 1],
  [0],
  [1, 784],
  { binary_data_size: 4 },
  { binary_data: true },
  { timeout: 1 },
  'x'.repeat(300),
);

type Mutation = {
  pick: number;
  op: 'delete' | 'replace' | 'interesting' | 'rename' | 'duplicate';
  value: unknown;
  key: string;
};

const MUTATION: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'interesting', 'rename', 'duplicate'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), INTERESTING),
  key: fc.oneof(
    fc.constantFrom('inputs', 'outputs', 'parameters', 'data', 'shape', 'datatype', 'name', 'id', 'binary_data_size'),
    fc.string({ maxLength: 8 }),
  ),
});

/** Every (container, key) slot in a JSON tree. */
function slots(root: unknown): [Record<string, unknown> | unknown[], string | number][] {
  const out: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      // Long data arrays would swamp the choice; sample their first few slots only.
      node.slice(0, 8).forEach((child, i) => {
        out.push([node, i]);
        walk(child);
      });
    } else if (typeof node === 'object' && node !== null) {
      for (const [k, child] of Object.entries(node)) {
        out.push([node as Record<string, unknown>, k]);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function mutate(root: Record<string, unknown>, m: Mutation): void {
  const all = slots(root);
  if (all.length === 0) return;
  const [container, key] = all[m.pick % all.length] as (typeof all)[number];
  const record = container as Record<string | number, unknown>;
  switch (m.op) {
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete record[key];
      return;
    case 'replace':
    case 'interesting':
      record[key] = structuredClone(m.value);
      return;
    case 'rename':
      if (Array.isArray(container)) return;
      record[m.key] = record[key];
      if (m.key !== key) delete record[key];
      return;
    case 'duplicate':
      if (Array.isArray(container)) container.push(structuredClone(container[key as number]));
      else record[m.key] = structuredClone(record[key]);
  }
}

/** Replies by status, to check the fuzzing reached inference and not only the parsers. */
const statuses = new Map<number, number>();

async function send(
  server: StratumServer,
  request: { url: string; body: string | Buffer; headers?: Record<string, string> },
): Promise<void> {
  const { url, body, headers = {} } = request;
  const res = await injectJson(server, { url, body, headers });
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  assertWellFormed(res, typeof body === 'string' ? body : `${JSON.stringify(headers)} ${body.toString('latin1')}`);
}

test('fuzzed requests never make the server fail', async (t) => {
  const server = await startTestServer(t, {
    fixtures: [...MODELS],
    modelConfigs: { multi_io: { dynamicBatching: { maxQueueSize: 8 } } },
    withoutGrpc: true,
  });
  const url = fc.constantFrom(...URLS);

  await t.test('random JSON values as the body', async () => {
    await fc.assert(
      fc.asyncProperty(url, fc.jsonValue({ maxDepth: 5 }), async (u, value) =>
        send(server, { url: u, body: JSON.stringify(value) ?? 'null' }),
      ),
      { numRuns: 300, seed: 1 },
    );
  });

  await t.test('random request-shaped JSON', async () => {
    const tensor = fc.record(
      {
        name: fc.oneof(
          fc.constantFrom('input', 'a', 'b', 'text', 'x', 'in_int8', 'in_fp16', 'in_bytes'),
          fc.string({ maxLength: 6 }),
        ),
        datatype: fc.oneof(fc.constantFrom(...DATATYPE_NAMES), fc.string({ maxLength: 6 })),
        shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(784, 2 ** 31 - 1, 2 ** 31)), {
          maxLength: 4,
        }),
        data: fc.oneof(
          fc.array(fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ maxLength: 4 })), { maxLength: 12 }),
          fc.array(fc.array(fc.integer({ min: -300, max: 300 }), { maxLength: 4 }), { maxLength: 4 }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        parameters: fc.dictionary(
          fc.constantFrom('binary_data_size', 'other'),
          fc.oneof(fc.integer({ min: -4, max: 64 }), fc.string({ maxLength: 3 }), fc.boolean()),
        ),
      },
      { requiredKeys: ['name', 'datatype', 'shape'] },
    );
    const request = fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
        inputs: fc.array(tensor, { maxLength: 4 }),
        outputs: fc.array(
          fc.record({
            name: fc.constantFrom('logits', 'sum', 'prod', 'mask', 'echo', 'y', 'nope'),
            parameters: fc.constantFrom({}, { binary_data: true }, { binary_data: 'no' }),
          }),
          { maxLength: 3 },
        ),
        parameters: fc.dictionary(
          fc.constantFrom('priority', 'timeout', 'binary_data_output', 'x'),
          fc.oneof(fc.integer({ min: -2, max: 4 }), fc.boolean(), fc.string({ maxLength: 3 }), fc.constant(1e20)),
        ),
      },
      { requiredKeys: ['inputs'] },
    );
    await fc.assert(
      fc.asyncProperty(url, request, async (u, body) => send(server, { url: u, body: JSON.stringify(body) })),
      { numRuns: 500, seed: 2 },
    );
  });

  await t.test('mutated valid requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SEEDS),
        // A quarter unmutated, so the happy path (batching, encoding) is fuzzed too.
        fc.oneof(
          { arbitrary: fc.constant<Mutation[]>([]), weight: 1 },
          { arbitrary: fc.array(MUTATION, { minLength: 1, maxLength: 3 }), weight: 3 },
        ),
        fc.option(url, { freq: 4, nil: undefined }),
        async (seed, mutations, otherUrl) => {
          const body = structuredClone(seed.body);
          for (const m of mutations) mutate(body, m);
          await send(server, { url: otherUrl ?? seed.url, body: JSON.stringify(body) });
        },
      ),
      { numRuns: 600, seed: 3 },
    );
  });

  await t.test('random valid requests answer what onnxruntime computes', async () => {
    const rowsOf = fc.integer({ min: 1, max: 4 });
    const request = rowsOf.chain((rows) =>
      fc.record({
        a: fc.array(
          fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }),
          { minLength: rows * 4, maxLength: rows * 4 },
        ),
        b: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: rows * 4, maxLength: rows * 4 }),
        // NUL is left out: onnxruntime-node cuts strings at the first NUL (a known limitation).
        text: fc.array(
          fc.string({ unit: 'grapheme', maxLength: 6 }).filter((w) => !w.includes('\0')),
          { minLength: rows, maxLength: rows },
        ),
        binary: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const rows = r.text.length;
        const multi = await injectJson(server, {
          url: '/v2/models/multi_io/infer',
          body: {
            inputs: [
              { name: 'a', datatype: 'FP32', shape: [rows, 4], data: r.a },
              { name: 'b', datatype: 'INT32', shape: [rows, 4], data: r.b },
            ],
          },
        });
        assertWellFormed(multi, JSON.stringify(r));
        assert.equal(multi.status, 200);
        const expected = await referenceRun('multi_io', {
          a: { type: 'float32', data: Float32Array.from(r.a), dims: [rows, 4] },
          b: { type: 'int32', data: Int32Array.from(r.b), dims: [rows, 4] },
        });
        for (const o of (multi.json as InferReply).outputs) {
          const want = expected[o.name]?.data ?? [];
          // FP32 is printed with the fewest digits that read back as the same float32.
          const got = o.datatype === 'FP32' ? (o.data as number[]).map((v) => Math.fround(v)) : o.data;
          assert.deepEqual(got, o.datatype === 'BOOL' ? want.map(Boolean) : want.map((v) => (v === 0 ? 0 : v)), o.name);
        }
        const blob = encodeBytesElements(r.text);
        const echo = r.binary
          ? await injectBinary(server, {
              url: '/v2/models/bytes_echo/infer',
              header: {
                inputs: [
                  { name: 'text', datatype: 'BYTES', shape: [rows, 1], parameters: { binary_data_size: blob.length } },
                ],
                outputs: [{ name: 'echo' }],
              },
              blobs: [blob],
            })
          : await injectJson(server, {
              url: '/v2/models/bytes_echo/infer',
              body: {
                inputs: [{ name: 'text', datatype: 'BYTES', shape: [rows, 1], data: r.text }],
                outputs: [{ name: 'echo' }],
              },
            });
        assertWellFormed(echo, JSON.stringify(r));
        assert.deepEqual((echo.json as InferReply).outputs[0]?.data, r.text);
        statuses.set(200, (statuses.get(200) ?? 0) + 2);
      }),
      { numRuns: 150, seed: 6 },
    );
  });

  await t.test('random bytes with a random Inference-Header-Content-Length', async () => {
    const headerLength = fc.option(
      fc.oneof(fc.nat({ max: 80 }), fc.constantFrom('-1', 'abc', '1e3', '', ' 4', '0x10', '99999999999999999999')),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(url, fc.uint8Array({ maxLength: 80 }), headerLength, async (u, bytes, length) => {
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
        if (length !== undefined) headers['inference-header-content-length'] = String(length);
        await send(server, { url: u, body: Buffer.from(bytes), headers });
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  await t.test('random binary-extension requests', async () => {
    const binaryInput = fc.record({
      name: fc.constantFrom('input', 'a', 'b', 'text', 'x', 'in_fp16', 'in_bytes', 'in_int64'),
      datatype: fc.constantFrom(...DATATYPE_NAMES),
      shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(784, 2 ** 31 - 1)), {
        minLength: 1,
        maxLength: 3,
      }),
      blob: fc.uint8Array({ maxLength: 48 }),
      sizeDelta: fc.constantFrom(0, 0, 0, -1, 1, 1000),
    });
    const request = fc.record({
      inputs: fc.array(binaryInput, { minLength: 1, maxLength: 3 }),
      binaryOutput: fc.boolean(),
      lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, -5, 7),
      trailing: fc.uint8Array({ maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(url, request, async (u, r) => {
        const header = {
          parameters: { binary_data_output: r.binaryOutput },
          inputs: r.inputs.map((i) => ({
            name: i.name,
            datatype: i.datatype,
            shape: i.shape,
            parameters: { binary_data_size: Math.max(0, i.blob.length + i.sizeDelta) },
          })),
        };
        const json = Buffer.from(JSON.stringify(header));
        const body = Buffer.concat([json, ...r.inputs.map((i) => Buffer.from(i.blob)), Buffer.from(r.trailing)]);
        await send(server, {
          url: u,
          body,
          headers: { 'inference-header-content-length': String(Math.max(0, json.length + r.lengthDelta)) },
        });
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  await t.test('a valid request still succeeds and nothing was a server error', async () => {
    t.diagnostic(`replies by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok((statuses.get(200) ?? 0) >= 300, 'requests reached inference');
    assert.ok((statuses.get(404) ?? 0) > 0, 'some requests named unknown models or versions');
    assert.ok((statuses.get(400) ?? 0) >= 500, 'most random requests were refused');
    await assertServesMlp(server);
    const metrics = await server.http.inject({ method: 'GET', url: '/metrics' });
    assert.doesNotMatch(metrics.body, /reason="INTERNAL"/);
  });
});
