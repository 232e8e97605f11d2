// A batch of inference log records packed for the log thread (two transferred buffers: the
// tensors' bytes and the records' JSON) unpacks to the same records: numeric views into larger
// buffers hold only their own elements, BYTES elements keep their bytes, 64-bit integers their
// values, text its characters, every slice is 8-aligned, and nothing in the message is walked per
// record by the structured clone; buffers the thread gave back are packed into, and grow when a
// batch outgrows them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecordData } from '../../src/deploy/log-batch-packing.ts';
import { LogBatchBuilder, packLogBatch, unpackLogBatch } from '../../src/deploy/log-batch-packing.ts';

const text = new TextEncoder();

function record(i: number): LogRecordData {
  return {
    requestId: i === 2 ? `r${i}-é-😀` : `r${i}`,
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
  assert.ok(packed.bytes instanceof ArrayBuffer && packed.text instanceof ArrayBuffer);
  assert.equal(packed.count, 3);
  const back = unpackLogBatch(structuredClone(packed, { transfer: [packed.bytes, packed.text] }));
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

/** A batch's tensors as plain arrays, and its records' heads. */
const view = (p: ReturnType<typeof packLogBatch>) =>
  unpackLogBatch(p).map(({ inputs, outputs, ...head }) => ({
    head,
    tensors: [...inputs, ...outputs].map((t) => (Array.isArray(t.data) ? t.data.map((e) => [...e]) : [...t.data])),
  }));

test('a batch is packed into buffers given back when they are large enough, and unpacks the same', () => {
  const first = packLogBatch([record(0), record(1)]);
  const spare = {
    bytes: new ArrayBuffer(first.bytes.byteLength + 64),
    // Room is reserved for the worst case of UTF-8, three bytes a character.
    text: new ArrayBuffer(first.textLength * 3 + 64),
  };
  new Uint8Array(spare.bytes).fill(0xee);
  new Uint8Array(spare.text).fill(0x20);
  const again = packLogBatch([record(0), record(1)], spare);
  assert.equal(again.bytes, spare.bytes);
  assert.equal(again.text, spare.text);
  assert.deepEqual(view(again), view(first));
  const small = { bytes: new ArrayBuffer(8), text: new ArrayBuffer(8) };
  const grown = packLogBatch([record(0), record(1), record(2)], small);
  assert.notEqual(grown.bytes, small.bytes);
  assert.notEqual(grown.text, small.text);
  assert.deepEqual(view(grown), view(packLogBatch([record(0), record(1), record(2)])));
});

test('records appended one at a time keep their bytes while the buffers grow under them', () => {
  // 784 floats a record: the 64 KiB the builder starts with holds about 20 of them.
  const builder = new LogBatchBuilder();
  const records = Array.from({ length: 100 }, (_, i) => ({
    ...record(i),
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [1, 784], data: Float32Array.from({ length: 784 }, (_, j) => i + j) },
    ],
  }));
  for (const r of records) builder.append(r);
  assert.equal(builder.count, 100);
  const back = unpackLogBatch(builder.seal());
  assert.deepEqual(
    back.map((r) => [
      r.requestId,
      ...(r.inputs[0]?.data as Float32Array).subarray(0, 3),
      (r.inputs[0]?.data as Float32Array)[783],
    ]),
    records.map((r, i) => [r.requestId, i, i + 1, i + 2, i + 783]),
  );
});

test('an empty batch packs to no records', () => {
  const packed = packLogBatch([]);
  assert.equal(packed.count, 0);
  assert.equal(packed.textLength, 0);
  assert.deepEqual(unpackLogBatch(packed), []);
});
