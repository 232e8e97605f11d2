/**
 * The frame channel and the inference messages on it: whatever way the bytes are cut into chunks
 * by the socket, every message arrives whole, in order, with its tensors' values intact (every
 * datatype, BYTES elements included); and `frontEnds: auto` resolves as documented.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { frameChannel } from '../../src/api/front-end/frame-channel.ts';
import { answerFromFrame, answerToFrame, callFromFrame, callToFrame } from '../../src/api/front-end/frame-messages.ts';
import type { InferAnswer, InferCall } from '../../src/api/front-end/front-end-messages.ts';
import { resolveFrontEnds } from '../../src/api/front-end/resolve-front-ends.ts';
import { StratumError } from '../../src/errors/index.ts';

/** A socket stand-in: what is written comes out of `wire`; what is pushed to `input` arrives as data. */
function fakeSocket(): { socket: Socket; wire: PassThrough; input: PassThrough } {
  const wire = new PassThrough();
  const input = new PassThrough();
  const socket = Object.assign(input, {
    setNoDelay: () => socket,
    cork: () => wire.cork(),
    uncork: () => wire.uncork(),
    write: (chunk: Uint8Array) => wire.write(chunk),
    end: () => wire.end(),
    destroyed: false,
  }) as unknown as Socket;
  return { socket, wire, input };
}

/** A seeded generator (mulberry32), so a failure names the cut that broke it. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

function sampleCall(id: number): InferCall {
  return {
    id,
    model: `model-${id}`,
    ...(id % 2 === 0 && { version: '3' }),
    url: `/v2/models/model-${id}/infer?x=${id}`,
    headers: { host: 'h', authorization: 'Bearer t', 'x-multi': ['a', 'b'] as unknown as string },
    source: '127.0.0.1',
    requestId: `fe-${id}`,
    request: {
      id: `r${id}`,
      parameters: { priority: 2, note: 'é', flag: true },
      binaryOutputs: id % 3 === 0,
      outputs: [{ name: 'y', binary: true }],
      timeoutMicroseconds: 1000,
      inputs: [
        { name: 'f32', datatype: 'FP32', shape: [2, 3], data: new Float32Array([1.5, -2, 3e-8, NaN, Infinity, id]) },
        { name: 'i64', datatype: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 62n), BigInt(id)]) },
        { name: 'u8', datatype: 'UINT8', shape: [3], data: new Uint8Array([0, 255, id % 256]) },
        { name: 'f64', datatype: 'FP64', shape: [1], data: new Float64Array([Math.PI]) },
        { name: 'bool', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
        {
          name: 'text',
          datatype: 'BYTES',
          shape: [3],
          data: [encoder.encode('héllo'), new Uint8Array(0), encoder.encode(`#${id}`)],
        },
        { name: 'empty', datatype: 'FP32', shape: [0, 4], data: new Float32Array(0) },
      ],
    },
  };
}

test('frames survive any cut of the byte stream, in order, with every datatype intact', async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const next = random(seed);
    const sender = fakeSocket();
    const receiver = fakeSocket();
    const out = frameChannel<ReturnType<typeof callToFrame>[0], never>(sender.socket, (e) => assert.fail(String(e)));
    const inbound = frameChannel<never, ReturnType<typeof callToFrame>[0]>(receiver.socket, (e) =>
      assert.fail(String(e)),
    );
    const calls = Array.from({ length: 20 }, (_, i) => sampleCall(i));
    const received: InferCall[] = [];
    inbound.onMessage((head, blobs) => received.push(callFromFrame(head, blobs)));
    for (const call of calls) out.send(...callToFrame(call));
    out.close();
    const bytes = Buffer.concat(await sender.wire.toArray());
    // Re-cut the stream at random places, down to single bytes, as a socket may deliver it.
    for (let at = 0; at < bytes.length;) {
      const size = next() < 0.2 ? 1 : 1 + Math.floor(next() * 700);
      receiver.input.emit('data', bytes.subarray(at, at + size));
      at += size;
    }
    assert.equal(received.length, calls.length, `seed ${seed}: every frame arrived`);
    for (const [i, call] of calls.entries()) {
      const got = received[i]!;
      assert.deepEqual(
        { ...got, request: { ...got.request, inputs: [] } },
        { ...call, request: { ...call.request, inputs: [] } },
      );
      for (const [k, input] of call.request.inputs.entries()) {
        const back = got.request.inputs[k]!;
        assert.equal(back.name, input.name);
        assert.deepEqual(back.shape, input.shape);
        const want = Array.isArray(input.data)
          ? input.data.map((b) => Buffer.from(b).toString())
          : [...(input.data as Iterable<unknown>)];
        const have = Array.isArray(back.data)
          ? back.data.map((b) => Buffer.from(b).toString())
          : [...(back.data as Iterable<unknown>)];
        assert.deepEqual(have, want, `seed ${seed}, call ${i}, input ${input.name}`);
      }
    }
  }
});

test('answers carry outputs or an error reply as they were', () => {
  const ok: InferAnswer = {
    id: 7,
    ok: true,
    headers: { traceparent: '00-abc-def-01' },
    response: {
      modelName: 'm',
      modelVersion: '2',
      id: 'x',
      parameters: { a: 1 },
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.25, -1]), binary: false },
        { name: 'label', datatype: 'BYTES', shape: [1], data: [encoder.encode('spam')], binary: true },
      ],
    },
  };
  const [head, blobs] = answerToFrame(ok);
  const back = answerFromFrame(JSON.parse(JSON.stringify(head)), blobs);
  assert.ok(back.ok);
  assert.deepEqual([...(back.response.outputs[0]!.data as Float32Array)], [0.25, -1]);
  assert.equal(Buffer.from((back.response.outputs[1]!.data as Uint8Array[])[0]!).toString(), 'spam');
  assert.deepEqual({ ...back.response, outputs: [] }, { ...ok.response, outputs: [] });
  const failed: InferAnswer = {
    id: 8,
    ok: false,
    status: 404,
    headers: { 'content-type': 'application/json' },
    body: '{"error":"x"}',
  };
  const [errorHead, none] = answerToFrame(failed);
  assert.deepEqual(none, []);
  assert.deepEqual(answerFromFrame(JSON.parse(JSON.stringify(errorHead)), []), failed);
});

test('a frame that lies about its length ends the channel with an error instead of a wrong message', () => {
  const receiver = fakeSocket();
  const errors: unknown[] = [];
  let destroyed = false;
  Object.assign(receiver.socket, { destroy: () => (destroyed = true) });
  const inbound = frameChannel<never, unknown>(receiver.socket, (e) => errors.push(e));
  inbound.onMessage(() => assert.fail('no message may come out of a broken frame'));
  const frame = Buffer.alloc(16);
  frame.writeUInt32LE(16, 0); // whole frame
  frame.writeUInt32LE(2, 4); // head length
  frame.writeUInt32LE(1, 8); // one blob …
  frame.writeUInt32LE(99, 12); // … longer than the frame
  receiver.input.emit('data', frame);
  assert.equal(errors.length, 1);
  assert.ok(destroyed);
});

test('frontEnds: auto, numbers, and TLS', () => {
  assert.equal(resolveFrontEnds(3, { cores: 2, tls: false }), 3);
  assert.equal(resolveFrontEnds(0, { cores: 64, tls: true }), 0);
  assert.equal(resolveFrontEnds('auto', { cores: 1, tls: false }), 0);
  assert.equal(resolveFrontEnds('auto', { cores: 2, tls: false }), 0, 'measured: front ends lose on two cores');
  assert.equal(resolveFrontEnds('auto', { cores: 4, tls: false }), 2);
  assert.equal(resolveFrontEnds('auto', { cores: 64, tls: false }), 4);
  assert.equal(resolveFrontEnds('auto', { cores: 16, tls: true }), 0, 'auto never asks front ends to serve TLS');
  assert.ok(resolveFrontEnds('auto', { cores: 16, tls: false }) >= 1);
  assert.throws(
    () => resolveFrontEnds(2, { cores: 4, tls: true }),
    (e: unknown) => e instanceof StratumError && e.code === 'CONFIG_INVALID' && /TLS/.test(e.message),
  );
});
