// A batch of inference log records packed for the log thread (one transferred buffer, one JSON
// string) unpacks to the same records: numeric views into larger buffers hold only their own
// elements, BYTES elements keep their bytes, 64-bit integers their values, every slice is 8-aligned,
// and the message is one string and one ArrayBuffer, nothing the structured clone walks per record;
// a buffer the thread gave back is packed into when it is large enough.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecordData } from '../../src/deploy/inference-log-sink.ts';
import { packLogBatch, unpackLogBatch } from '../../src/deploy/log-batch-packing.ts';

const text = new TextEncoder();

function record(i: number): LogRecordData {
  return {
    requestId: `r${i}`,
    deployment: 'd',
    model: 'm',
    version: '1',
    at: 1000 + i,
    latencyMs: 0.25 * i,
    inputs: [
      // A view into a larger buffer, as a binary request's body is.
      { name: 'x', datatype: 'FP32', shape: [1, 3], data: Float32Array.from([9, i, i + 0.5, -i, 9]).subarray(1, 4) },
      { name: 's', datatype: 'BYTES', shape: [2], data: [text.encode(`é${i}`), text.encode('')] },
      { name: 'k', datatype: 'INT64', shape: [1], data: BigInt64Array.from([BigInt(i) - 2n ** 40n]) },
    ],
    outputs: [{ name: 'b', datatype: 'BOOL', shape: [1], data: Uint8Array.from([i % 2]) }],
    redact: i === 1 ? { s: 'hash' } : {},
  };
}

test('a packed batch unpacks to the records it was made of', () => {
  const batch = [record(0), record(1), record(2)];
  const packed = packLogBatch(batch);
  assert.equal(typeof packed.records, 'string');
  assert.ok(packed.bytes instanceof ArrayBuffer);
  const back = unpackLogBatch(structuredClone(packed, { transfer: [packed.bytes] }));
  assert.equal(back.length, batch.length);
  for (const [i, r] of back.entries()) {
    const original = batch[i] as LogRecordData;
    const { inputs, outputs, ...head } = r;
    const { inputs: originalInputs, outputs: originalOutputs, ...originalHead } = original;
    assert.deepEqual(head, originalHead);
    for (const [got, want] of [
      [inputs, originalInputs],
      [outputs, originalOutputs],
    ] as const) {
      assert.deepEqual(
        got.map((t) => ({ ...t, data: Array.isArray(t.data) ? t.data.map((e) => [...e]) : [...t.data] })),
        want.map((t) => ({ ...t, data: Array.isArray(t.data) ? t.data.map((e) => [...e]) : [...t.data] })),
      );
      for (const t of got) if (!Array.isArray(t.data)) assert.equal(t.data.byteOffset % 8, 0, t.name);
    }
  }
});

test('a batch is packed into a buffer given back when it is large enough, and unpacks the same', () => {
  const first = packLogBatch([record(0), record(1)]);
  const spare = new ArrayBuffer(first.bytes.byteLength + 64);
  new Uint8Array(spare).fill(0xee);
  const again = packLogBatch([record(0), record(1)], spare);
  assert.equal(again.bytes, spare);
  assert.equal(again.records, first.records);
  const view = (p: typeof first) =>
    unpackLogBatch(p).map((r) =>
      [...r.inputs, ...r.outputs].map((t) => (Array.isArray(t.data) ? t.data.map((e) => [...e]) : [...t.data])),
    );
  assert.deepEqual(view(again), view(first));
  const small = new ArrayBuffer(8);
  assert.notEqual(packLogBatch([record(0)], small).bytes, small);
});

test('an empty batch packs to an empty buffer', () => {
  const packed = packLogBatch([]);
  assert.equal(packed.bytes.byteLength, 0);
  assert.deepEqual(unpackLogBatch(packed), []);
});
