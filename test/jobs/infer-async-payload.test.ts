/**
 * The `infer-async` payload's binary form: a JSON request stored re-encoded decodes back to the
 * same request — exact values for every datatype used, BYTES included, the request's id,
 * parameters and requested outputs — and a binary body is kept as received.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeInferAsyncPayload, inferAsyncPayload } from '../../src/jobs/infer-async-payload.ts';
import { decodeRestInferRequest } from '../../src/serving/protocol/rest-infer-request.ts';
import type { InferRequest } from '../../src/serving/types.ts';

const MAX_BYTES = 1024 * 1024;

/** BYTES elements as plain Uint8Arrays (a decoder may hand out Buffer views of the same bytes). */
function plainBytes(request: InferRequest): InferRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) =>
      Array.isArray(input.data) ? { ...input, data: input.data.map((b) => Uint8Array.from(b)) } : input,
    ),
  };
}

function roundTrip(json: object) {
  const body = Buffer.from(JSON.stringify(json));
  const decoded = decodeRestInferRequest({ body, maxBytesElement: MAX_BYTES });
  const payload = inferAsyncPayload({ model: 'm', body, decoded });
  // Stored as JSON text and read back, as the queue does.
  const stored = JSON.parse(JSON.stringify(payload)) as typeof payload;
  return { decoded, payload: stored, back: decodeInferAsyncPayload(stored, MAX_BYTES) };
}

test('a JSON request is stored in the binary form and decodes back to exactly the same request', () => {
  const floats = [0.1, -2.5, 3.4028234663852886e38, 1e-45, 0, 7.25];
  const { decoded, payload, back } = roundTrip({
    id: 'req-1',
    parameters: { priority: 2, binary_data_output: true, note: 'x' },
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [2, 3], data: floats },
      { name: 'b', datatype: 'INT64', shape: [3], data: [1, -9007199254740991, 42], parameters: { tag: 'k' } },
      { name: 'c', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
      { name: 'd', datatype: 'BOOL', shape: [2], data: [true, false] },
    ],
    outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
  });
  assert.equal(payload.request, undefined, 'no JSON numbers stored');
  assert.ok(payload.binary !== undefined && payload.binary.headerLength > 0);
  // The same request but for `binary_data_size`, which says how its data travelled.
  const withoutSizes = {
    ...back,
    inputs: back.inputs.map(({ parameters, ...input }) => {
      const { binary_data_size: size, ...rest } = parameters ?? {};
      assert.equal(typeof size, 'number');
      return Object.keys(rest).length === 0 ? input : { ...input, parameters: rest };
    }),
  };
  assert.deepEqual(plainBytes(withoutSizes), plainBytes(decoded));
  assert.deepEqual([...(back.inputs[0]?.data as Float32Array)], [...Float32Array.from(floats)]);
  assert.deepEqual([...(back.inputs[1]?.data as BigInt64Array)], [1n, -9007199254740991n, 42n]);
  assert.deepEqual(
    (back.inputs[2]?.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8')),
    ['héllo', ''],
  );
  assert.equal(back.id, 'req-1');
  assert.equal(back.priority, 2);
  assert.deepEqual(back.outputs, [
    { name: 'y', binary: false },
    { name: 'z', binary: true },
  ]);
});

test('a binary body is stored as received', () => {
  const data = Float32Array.from([1.5, -0.25, 3]);
  const header = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }] }),
  );
  const body = Buffer.concat([header, Buffer.from(data.buffer)]);
  const decoded = decodeRestInferRequest({ body, headerLength: header.length, maxBytesElement: MAX_BYTES });
  const payload = inferAsyncPayload({ model: 'm', body, decoded, headerLength: header.length });
  assert.deepEqual(payload.binary, { body: body.toString('base64'), headerLength: header.length });
  const back = decodeInferAsyncPayload(payload, MAX_BYTES);
  assert.deepEqual([...(back.inputs[0]?.data as Float32Array)], [1.5, -0.25, 3]);
});

test('a payload queued with a JSON request (before the binary form) still decodes', () => {
  const request = { inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: [3, 4] }] };
  const back = decodeInferAsyncPayload({ model: 'm', request }, MAX_BYTES);
  assert.deepEqual([...(back.inputs[0]?.data as Int32Array)], [3, 4]);
});
