// The inference log's stored tensors: numeric tensors round-trip through the binary form's raw
// bytes to the same plain values the decimal JSON form held, for every numeric datatype; text and
// hashes round-trip inside its header; both earlier JSON forms (decimal arrays, base64) read back,
// as text or as its UTF-8 bytes (PostgreSQL after migration 016); damaged values are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { decodeLoggedTensors, encodeLoggedTensors } from '../../src/store/logged-tensor-codec.ts';

test('numeric tensors are stored as raw bytes and read back as the plain values', () => {
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
  const stored = encodeLoggedTensors(tensors);
  assert.doesNotMatch(stored.toString('latin1'), /"data"|"base64"/, 'no decimal arrays nor base64 are written');
  assert.equal(stored.length % 8, 0);
  // Each tensor's bytes are there as they are, at a multiple of 8.
  const f32 = Buffer.from(tensors.f32.values.buffer);
  assert.equal(stored.indexOf(f32) % 8, 0);
  const back = decodeLoggedTensors(stored);
  for (const [name, tensor] of Object.entries(tensors)) {
    const plain = Array.from(tensor.values as ArrayLike<number | bigint>, Number);
    assert.deepEqual(back[name], { datatype: tensor.datatype, shape: tensor.shape, data: plain }, name);
  }
});

test('a view into a larger buffer stores only its own elements', () => {
  const whole = Float32Array.from([1, 2, 3, 4, 5]);
  const stored = encodeLoggedTensors({ x: { datatype: 'FP32', shape: [2], values: whole.subarray(1, 3) } });
  assert.deepEqual(decodeLoggedTensors(stored).x?.data, [2, 3]);
  // Read from a view at an odd offset of a larger buffer, as a driver may hand it over.
  const shifted = Buffer.concat([Buffer.from([7]), stored]).subarray(1);
  assert.deepEqual(decodeLoggedTensors(shifted).x?.data, [2, 3]);
});

test('the padding between tensors is zeros, whatever the buffer pool held before', () => {
  Buffer.allocUnsafe(4000).fill(0xff);
  const stored = encodeLoggedTensors({
    a: { datatype: 'UINT8', shape: [3], values: Uint8Array.from([1, 2, 3]) },
    b: { datatype: 'UINT8', shape: [1], values: Uint8Array.from([4]) },
  });
  assert.equal(stored.indexOf(0xff), -1);
  assert.deepEqual(decodeLoggedTensors(stored), {
    a: { datatype: 'UINT8', shape: [3], data: [1, 2, 3] },
    b: { datatype: 'UINT8', shape: [1], data: [4] },
  });
});

test('base64 JSON documents (the form before the binary one) read back, as text and as bytes', () => {
  const values = Float32Array.from([0.5, -1.25]);
  const text = JSON.stringify({
    x: { datatype: 'FP32', shape: [1, 2], base64: Buffer.from(values.buffer).toString('base64') },
    s: { datatype: 'BYTES', shape: [1], data: ['é'] },
  });
  const expected = {
    x: { datatype: 'FP32', shape: [1, 2], data: [0.5, -1.25] },
    s: { datatype: 'BYTES', shape: [1], data: ['é'] },
  };
  assert.deepEqual(decodeLoggedTensors(text), expected);
  assert.deepEqual(decodeLoggedTensors(Buffer.from(text, 'utf8')), expected);
});

test('JSON-array tensors (older rows, text, hashes) read back as they were written', () => {
  const old = {
    x: { datatype: 'FP32', shape: [1, 2], data: [0.5, 1.25] },
    s: { datatype: 'BYTES', shape: [1], data: ['a'] },
    h: { datatype: 'FP32', shape: [1], data: ['0123456789abcdef'], redacted: 'hash' as const },
  };
  assert.deepEqual(decodeLoggedTensors(JSON.stringify(old)), old);
  assert.deepEqual(decodeLoggedTensors(Buffer.from(JSON.stringify(old))), old);
  assert.deepEqual(decodeLoggedTensors(encodeLoggedTensors(old)), old);
  // Mixed: numbers as bytes beside text and hashes in the header.
  const mixed = { ...old, n: { datatype: 'INT32', shape: [2], values: Int32Array.from([5, -6]) } };
  assert.deepEqual(decodeLoggedTensors(encodeLoggedTensors(mixed)), {
    ...old,
    n: { datatype: 'INT32', shape: [2], data: [5, -6] },
  });
});

test('bytes that are not whole elements of the datatype are refused', () => {
  const text = JSON.stringify({
    x: { datatype: 'FP32', shape: [1], base64: Buffer.from([1, 2, 3]).toString('base64') },
  });
  const stored = encodeLoggedTensors({ x: { datatype: 'FP32', shape: [1], values: Uint8Array.from([1, 2, 3]) } });
  for (const value of [text, stored]) {
    assert.throws(
      () => decodeLoggedTensors(value),
      (error: unknown) => error instanceof StratumError && error.code === 'INTERNAL' && /3 bytes/.test(error.message),
    );
  }
});

test('a binary value cut short is refused, not read past its end', () => {
  const stored = encodeLoggedTensors({ x: { datatype: 'FP64', shape: [4], values: Float64Array.from([1, 2, 3, 4]) } });
  for (const cut of [stored.subarray(0, 6), stored.subarray(0, 12), stored.subarray(0, stored.length - 8)]) {
    assert.throws(
      () => decodeLoggedTensors(cut),
      (error: unknown) => error instanceof StratumError && error.code === 'INTERNAL',
    );
  }
});
