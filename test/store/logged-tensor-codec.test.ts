// The inference log's tensor documents: numeric tensors round-trip through their base64 bytes to
// the same plain values the decimal JSON form held, for every numeric datatype; the JSON-array
// form (rows written before, text, hashes) reads back unchanged; damaged bytes are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { decodeLoggedTensors, encodeLoggedTensors } from '../../src/store/logged-tensor-codec.ts';

test('numeric tensors are stored as base64 bytes and read back as the plain values', () => {
  const tensors = {
    f32: { datatype: 'FP32', shape: [1, 3], values: Float32Array.from([0.1, -2.5, 3e-8]) },
    f64: { datatype: 'FP64', shape: [2], values: Float64Array.from([Math.PI, -0]) },
    i64: { datatype: 'INT64', shape: [2], values: BigInt64Array.from([-3n, 9007199254740991n]) },
    u64: { datatype: 'UINT64', shape: [1], values: BigUint64Array.from([7n]) },
    i8: { datatype: 'INT8', shape: [2], values: Int8Array.from([-128, 127]) },
    u16: { datatype: 'UINT16', shape: [1], values: Uint16Array.from([65535]) },
    i32: { datatype: 'INT32', shape: [1], values: Int32Array.from([-70000]) },
    b: { datatype: 'BOOL', shape: [2], values: Uint8Array.from([1, 0]) },
    half: { datatype: 'FP16', shape: [1], values: Uint16Array.from([0x3c00]) },
  };
  const text = encodeLoggedTensors(tensors);
  assert.doesNotMatch(text, /"data"/, 'no decimal arrays are written');
  const back = decodeLoggedTensors(text);
  for (const [name, tensor] of Object.entries(tensors)) {
    const plain = Array.from(tensor.values as ArrayLike<number | bigint>, Number);
    assert.deepEqual(back[name], { datatype: tensor.datatype, shape: tensor.shape, data: plain }, name);
  }
});

test('a view into a larger buffer stores only its own elements', () => {
  const whole = Float32Array.from([1, 2, 3, 4, 5]);
  const text = encodeLoggedTensors({ x: { datatype: 'FP32', shape: [2], values: whole.subarray(1, 3) } });
  assert.deepEqual(decodeLoggedTensors(text).x?.data, [2, 3]);
});

test('JSON-array tensors (older rows, text, hashes) read back as they were written', () => {
  const old = {
    x: { datatype: 'FP32', shape: [1, 2], data: [0.5, 1.25] },
    s: { datatype: 'BYTES', shape: [1], data: ['a'] },
    h: { datatype: 'FP32', shape: [1], data: ['0123456789abcdef'], redacted: 'hash' as const },
  };
  assert.deepEqual(decodeLoggedTensors(JSON.stringify(old)), old);
  assert.deepEqual(decodeLoggedTensors(encodeLoggedTensors(old)), old);
});

test('bytes that are not whole elements of the datatype are refused', () => {
  const text = JSON.stringify({
    x: { datatype: 'FP32', shape: [1], base64: Buffer.from([1, 2, 3]).toString('base64') },
  });
  assert.throws(
    () => decodeLoggedTensors(text),
    (error: unknown) => error instanceof StratumError && error.code === 'INTERNAL' && /3 bytes/.test(error.message),
  );
});
