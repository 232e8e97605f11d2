/**
 * Every protocol datatype end to end through the `all_types` fixture (identity per datatype): JSON
 * values come back identical, FP16 travels only in binary (JSON gets 501 telling the client so),
 * binary round-trips every bit, and out-of-range or wrongly typed JSON elements are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertError,
  decodeBytesElements,
  encodeBytesElements,
  type InferReply,
  injectBinary,
  parseBinaryReply,
  view,
} from './http-test-kit.ts';

const SHAPE = [2, 3];

/** JSON values per datatype (2 rows × 3), including each type's extremes. */
const JSON_VALUES = {
  BOOL: [true, false, true, false, false, true],
  UINT8: [0, 255, 17, 1, 128, 254],
  UINT16: [0, 65_535, 1, 300, 32_768, 7],
  UINT32: [0, 4_294_967_295, 123, 65_536, 2_147_483_648, 9],
  UINT64: [0, Number.MAX_SAFE_INTEGER, 42, 2 ** 32, 1, 2 ** 40],
  INT8: [-128, 127, 0, -1, 1, 64],
  INT16: [-32_768, 32_767, -1, 0, 1000, -1000],
  INT32: [-2_147_483_648, 2_147_483_647, -7, 0, 1, 65_536],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 40, -(2 ** 33)],
  FP32: [1.5, -0.25, Math.fround(0.1), Math.fround(3.4e38), Math.fround(-1e-30), 0],
  FP64: [0.1, -1e300, 5e-324, Math.PI, -2.5, 1e-7],
  BYTES: ['cat', '', 'naïve ✓', 'dog', '{"json": true}', 'tab\there'],
} as const;

type JsonType = keyof typeof JSON_VALUES;
const JSON_TYPES = Object.keys(JSON_VALUES) as JsonType[];

/** FP16 bit patterns: 1, -2, 0.5, +0, -0, +Inf, -Inf, a NaN, the smallest subnormal, the largest normal, 65504, 1/3. */
const FP16_BITS = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x0000, 0x8000, 0x7c00]);

function jsonInputs(): object[] {
  return JSON_TYPES.map((dt) => ({
    name: `in_${dt.toLowerCase()}`,
    datatype: dt,
    shape: SHAPE,
    data: JSON_VALUES[dt],
  }));
}

test('datatypes through all_types', async (t) => {
  const server = await startTestServer(t, { fixtures: ['all_types', 'mlp'], withoutGrpc: true });
  const url = '/v2/models/all_types/infer';

  await t.test('every JSON datatype comes back identical (FP16 alongside in binary)', async () => {
    const res = await injectBinary(server, {
      url,
      header: {
        inputs: [
          ...jsonInputs(),
          { name: 'in_fp16', datatype: 'FP16', shape: SHAPE, parameters: { binary_data_size: FP16_BITS.byteLength } },
        ],
        outputs: [
          ...JSON_TYPES.map((dt) => ({ name: `out_${dt.toLowerCase()}` })),
          { name: 'out_fp16', parameters: { binary_data: true } },
        ],
      },
      blobs: [new Uint8Array(FP16_BITS.buffer)],
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 400));
    const { json, blobs } = parseBinaryReply(res);
    const byName = new Map(json.outputs.map((o) => [o.name, o]));
    for (const dt of JSON_TYPES) {
      const out = byName.get(`out_${dt.toLowerCase()}`);
      assert.ok(out, dt);
      assert.equal(out.datatype, dt);
      assert.deepEqual(out.shape, SHAPE, dt);
      // FP32 is printed with the fewest digits that read back as the same float32 (0.1, not
      // 0.10000000149011612): what a float32 client reads is the value sent.
      const got = dt === 'FP32' ? (out.data as number[]).map((v) => Math.fround(v)) : out.data;
      assert.deepEqual(got, [...JSON_VALUES[dt]], dt);
    }
    const fp16 = byName.get('out_fp16');
    assert.equal(fp16?.datatype, 'FP16');
    assert.deepEqual(fp16.parameters, { binary_data_size: FP16_BITS.byteLength });
    assert.deepEqual(view(blobs.get('out_fp16') ?? Buffer.alloc(0), Uint16Array), FP16_BITS);
  });

  await t.test('FP16 as JSON input is 501 UNSUPPORTED telling the client to use binary', async () => {
    const res = await injectJson(server, {
      url,
      body: {
        inputs: [...jsonInputs(), { name: 'in_fp16', datatype: 'FP16', shape: SHAPE, data: [1, 2, 3, 4, 5, 6] }],
      },
    });
    assertError(res, { code: 'UNSUPPORTED', includes: ['"in_fp16"', 'FP16', 'binary tensor extension'] });
  });

  await t.test(
    'an FP16 output requested as JSON is 501 UNSUPPORTED telling the client to set binary_data',
    async () => {
      const res = await injectBinary(server, {
        url,
        header: {
          inputs: [
            ...jsonInputs(),
            { name: 'in_fp16', datatype: 'FP16', shape: SHAPE, parameters: { binary_data_size: 12 } },
          ],
          outputs: [{ name: 'out_fp16' }],
        },
        blobs: [new Uint8Array(FP16_BITS.buffer)],
      });
      assertError(res, { code: 'UNSUPPORTED', includes: ['FP16', 'binary'] });
    },
  );

  await t.test('every datatype in binary round-trips its exact bytes, FP16 special values included', async () => {
    const fp16 = Uint16Array.from([0x7e00, 0x0001, 0x7bff, 0xfc00, 0x8000, 0x3555]);
    const raw: Record<string, Uint8Array> = {
      in_bool: Uint8Array.from([1, 0, 1, 1, 0, 0]),
      in_uint8: Uint8Array.from([0, 255, 1, 2, 3, 4]),
      in_uint16: new Uint8Array(Uint16Array.from([0, 65_535, 1, 2, 3, 4]).buffer),
      in_uint32: new Uint8Array(Uint32Array.from([0, 4_294_967_295, 1, 2, 3, 4]).buffer),
      in_uint64: new Uint8Array(BigUint64Array.from([0n, 2n ** 64n - 1n, 1n, 2n ** 63n, 3n, 4n]).buffer),
      in_int8: new Uint8Array(Int8Array.from([-128, 127, 0, -1, 1, 2]).buffer),
      in_int16: new Uint8Array(Int16Array.from([-32_768, 32_767, 0, -1, 1, 2]).buffer),
      in_int32: new Uint8Array(Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1, 1, 2]).buffer),
      in_int64: new Uint8Array(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, 2n]).buffer),
      in_fp16: new Uint8Array(fp16.buffer),
      in_fp32: new Uint8Array(Float32Array.from([NaN, Infinity, -Infinity, -0, 1e-45, 3.4e38]).buffer),
      in_fp64: new Uint8Array(Float64Array.from([NaN, Infinity, -Infinity, -0, 5e-324, 1.7e308]).buffer),
      in_bytes: encodeBytesElements(['', 'x', 'naïve ✓', 'four', '\n', 'last']),
    };
    const names = Object.keys(raw);
    const datatypeOf = (name: string): string => name.slice(3).toUpperCase();
    const res = await injectBinary(server, {
      url,
      header: {
        parameters: { binary_data_output: true },
        inputs: names.map((name) => ({
          name,
          datatype: datatypeOf(name),
          shape: SHAPE,
          parameters: { binary_data_size: raw[name]?.byteLength },
        })),
      },
      blobs: names.map((name) => raw[name] as Uint8Array),
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 400));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const { json, blobs } = parseBinaryReply(res);
    assert.equal(json.outputs.length, names.length);
    for (const name of names) {
      const out = `out_${name.slice(3)}`;
      const meta = json.outputs.find((o) => o.name === out);
      assert.equal(meta?.datatype, datatypeOf(name));
      assert.deepEqual(meta.shape, SHAPE);
      assert.equal(meta.data, undefined, `${out} carries no JSON data`);
      assert.ok(Buffer.from(raw[name] as Uint8Array).equals(blobs.get(out) ?? Buffer.alloc(0)), `${out} bytes`);
    }
    assert.deepEqual(decodeBytesElements(blobs.get('out_bytes') ?? Buffer.alloc(0)), [
      '',
      'x',
      'naïve ✓',
      'four',
      '\n',
      'last',
    ]);
  });

  await t.test('non-finite floats sent in binary come back as null in JSON', async () => {
    const res = await injectBinary(server, {
      url,
      header: {
        inputs: [
          ...jsonInputs().filter((i) => (i as { name: string }).name !== 'in_fp32'),
          { name: 'in_fp32', datatype: 'FP32', shape: SHAPE, parameters: { binary_data_size: 24 } },
          { name: 'in_fp16', datatype: 'FP16', shape: SHAPE, parameters: { binary_data_size: 12 } },
        ],
        outputs: [{ name: 'out_fp32' }],
      },
      blobs: [
        new Uint8Array(Float32Array.from([NaN, Infinity, -Infinity, 1, -1, 0]).buffer),
        new Uint8Array(FP16_BITS.buffer),
      ],
    });
    assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, [null, null, null, 1, -1, 0]);
  });

  const withFp16 = (replace: object): object => ({
    inputs: [
      ...jsonInputs().filter((i) => (i as { name: string }).name !== (replace as { name: string }).name),
      replace,
      { name: 'in_fp16', datatype: 'FP16', shape: SHAPE, parameters: { binary_data_size: 12 } },
    ],
    outputs: [{ name: 'out_bool' }],
  });
  const badElements: readonly {
    name: string;
    datatype: string;
    data: readonly unknown[];
    includes: readonly string[];
  }[] = [
    {
      name: 'in_bool',
      datatype: 'BOOL',
      data: [true, 1, true, true, true, true],
      includes: ['element 1', 'true or false', 'number 1'],
    },
    {
      name: 'in_uint8',
      datatype: 'UINT8',
      data: [0, 0, 256, 0, 0, 0],
      includes: ['element 2', '[0, 255]', 'number 256'],
    },
    { name: 'in_uint8', datatype: 'UINT8', data: [0, -1, 0, 0, 0, 0], includes: ['element 1', 'number -1'] },
    {
      name: 'in_int8',
      datatype: 'INT8',
      data: [0, 0, 0, 128, 0, 0],
      includes: ['element 3', '[-128, 127]', 'number 128'],
    },
    { name: 'in_int8', datatype: 'INT8', data: [-129, 0, 0, 0, 0, 0], includes: ['element 0', 'number -129'] },
    { name: 'in_uint16', datatype: 'UINT16', data: [0, 0, 0, 0, 65_536, 0], includes: ['element 4', 'number 65536'] },
    { name: 'in_int16', datatype: 'INT16', data: [0, 0, 0, 0, 0, 32_768], includes: ['element 5', 'number 32768'] },
    {
      name: 'in_uint32',
      datatype: 'UINT32',
      data: [2 ** 32, 0, 0, 0, 0, 0],
      includes: ['element 0', 'number 4294967296'],
    },
    {
      name: 'in_int32',
      datatype: 'INT32',
      data: [0, 2 ** 31, 0, 0, 0, 0],
      includes: ['element 1', 'number 2147483648'],
    },
    {
      name: 'in_int32',
      datatype: 'INT32',
      data: [0, 1.5, 0, 0, 0, 0],
      includes: ['element 1', 'integer', 'number 1.5'],
    },
    {
      name: 'in_uint64',
      datatype: 'UINT64',
      data: [0, 0, -3, 0, 0, 0],
      includes: ['element 2', '[0, 2^64)', 'number -3'],
    },
    {
      name: 'in_uint64',
      datatype: 'UINT64',
      data: [0, 0, 2 ** 64, 0, 0, 0],
      includes: ['element 2', 'number 18446744073709552000'],
    },
    {
      name: 'in_int64',
      datatype: 'INT64',
      data: [0, 0, 0, 2 ** 63, 0, 0],
      includes: ['element 3', 'number 9223372036854776000'],
    },
    {
      name: 'in_int64',
      datatype: 'INT64',
      data: [0, 0, 0, 0, '5', 0],
      includes: ['element 4', '[-2^63, 2^63)', 'string "5"'],
    },
    {
      name: 'in_fp32',
      datatype: 'FP32',
      data: [0, 0, 0, 0, 0, 'x'],
      includes: ['element 5', 'a number', 'string "x"'],
    },
    { name: 'in_fp64', datatype: 'FP64', data: [null, 0, 0, 0, 0, 0], includes: ['element 0', 'a number', 'null'] },
    {
      name: 'in_bytes',
      datatype: 'BYTES',
      data: ['a', 'b', 3, 'd', 'e', 'f'],
      includes: ['element 2', 'a string', 'number 3'],
    },
    {
      name: 'in_bytes',
      datatype: 'BYTES',
      data: ['a', 'b', 'c', { s: 1 }, 'e', 'f'],
      includes: ['element 3', 'a string', 'an object'],
    },
  ];
  for (const bad of badElements) {
    await t.test(
      `${bad.datatype} refuses ${bad.includes.at(-1) ?? ''} (${bad.includes[0] ?? ''}) with 400 INVALID_INPUT`,
      async () => {
        const res = await injectBinary(server, {
          url,
          header: withFp16({ name: bad.name, datatype: bad.datatype, shape: SHAPE, data: bad.data }),
          blobs: [new Uint8Array(FP16_BITS.buffer)],
        });
        assertError(res, { code: 'INVALID_INPUT', includes: [`input "${bad.name}"`, ...bad.includes] });
      },
    );
  }

  await t.test('the server still serves after every refusal', async () => {
    const res = await injectBinary(server, {
      url,
      header: withFp16({ name: 'in_bool', datatype: 'BOOL', shape: SHAPE, data: JSON_VALUES.BOOL }),
      blobs: [new Uint8Array(FP16_BITS.buffer)],
    });
    assert.equal(res.status, 200);
    assert.deepEqual((res.json as InferReply).outputs[0]?.data, [...JSON_VALUES.BOOL]);
  });
});
