/**
 * The graph builder: deterministic bytes, early errors for malformed graphs, and the details
 * onnxruntime depends on (little-endian raw_data, opset imports).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { attr } from '../../src/onnx/attribute.ts';
import { FIXTURE_NAMES, FIXTURES } from '../../src/onnx/fixtures.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { decodeModel } from '../../src/onnx/onnx-proto.ts';
import { createTensorProto } from '../../src/onnx/tensor-proto.ts';

test('every fixture builds identical bytes twice', () => {
  for (const name of FIXTURE_NAMES) {
    assert.ok(Buffer.from(FIXTURES[name].build()).equals(FIXTURES[name].build()), name);
  }
});

test('toBytes returns a buffer that owns its memory', () => {
  const bytes = FIXTURES.fixed_batch.build();
  assert.equal(bytes.byteOffset, 0);
  assert.equal(bytes.buffer.byteLength, bytes.byteLength);
});

test('a built model runs in onnxruntime', async (t) => {
  const graph = new GraphBuilder({ name: 'affine' });
  graph.addInput({ name: 'x', type: 'FLOAT', shape: ['n', 2] });
  graph.addInitializer({ name: 'w', dims: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
  graph.addInitializer({ name: 'b', dims: [2], data: new Float32Array([0.5, -0.5]) });
  graph.addNode({
    op: 'Gemm',
    inputs: ['x', 'w', 'b'],
    outputs: ['y'],
    attributes: { alpha: attr.float(2), transB: attr.int(1) },
  });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['n', 2] });
  const session = await ort.InferenceSession.create(graph.toBytes());
  t.after(() => session.release());
  const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1]), [1, 2]) });
  // 2 · [1,1]·Wᵀ + b = 2 · [3, 7] + [0.5, -0.5]
  assert.deepEqual(Array.from(y?.data as Float32Array), [6.5, 13.5]);
});

test('imports ai.onnx.ml only when a node uses it', () => {
  const plain = new GraphBuilder();
  plain.addInput({ name: 'x', type: 'FLOAT', shape: [1] });
  plain.addNode({ op: 'Identity', inputs: ['x'], outputs: ['y'] });
  plain.addOutput({ name: 'y', type: 'FLOAT', shape: [1] });
  assert.deepEqual(plain.toModel().opset_import, [{ domain: '', version: 17 }]);
  assert.deepEqual(decodeModel(FIXTURES.bytes_echo.build()).opset_import, [
    { domain: '', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ]);
});

test('opsets and IR version can be overridden', () => {
  const graph = new GraphBuilder({ opsets: { '': 13, 'com.example': 1 }, irVersion: 7 });
  graph.addInput({ name: 'x', type: 'FLOAT' });
  graph.addNode({ op: 'Custom', domain: 'com.example', inputs: ['x'], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT' });
  const model = graph.toModel();
  assert.equal(model.ir_version, 7);
  assert.deepEqual(model.opset_import, [
    { domain: '', version: 13 },
    { domain: 'com.example', version: 1 },
  ]);
});

test('rejects malformed graphs where they are written', () => {
  const graph = new GraphBuilder();
  graph.addInput({ name: 'x', type: 'FLOAT', shape: [1] });
  assert.throws(() => graph.addNode({ op: 'Relu', inputs: ['missing'] }), /input "missing" is not defined/);
  assert.throws(() => graph.addInput({ name: 'x', type: 'FLOAT' }), /defined twice/);
  assert.throws(() => graph.addNode({ op: 'Foo', domain: 'unknown.domain', inputs: ['x'] }), /no opset version/);
  assert.throws(() => graph.addOutput({ name: 'nothing', type: 'FLOAT' }), /not produced/);
  assert.throws(() => graph.toModel(), /no outputs/);
  assert.throws(() => graph.addInput({ name: 'z', type: 'FLOAT', shape: [1.5] }), RangeError);
  assert.throws(() => attr.int(0.5), RangeError);
});

test('renameValue moves a computed value to a new name in its node and its readers, so a step can take its place', async (t) => {
  const graph = new GraphBuilder();
  graph.addInput({ name: 'x', type: 'FLOAT', shape: ['n', 1] });
  graph.addNode({ op: 'Relu', inputs: ['x'], outputs: ['y'] });
  graph.addNode({ op: 'Neg', inputs: ['y'], outputs: ['z'] });
  assert.equal(graph.renameValue('y', 'y_computed'), 'y_computed');
  // `y` is free again: it is now the doubled value, read by nothing before it.
  graph.addNode({ op: 'Add', inputs: ['y_computed', 'y_computed'], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['n', 1] });
  graph.addOutput({ name: 'z', type: 'FLOAT', shape: ['n', 1] });
  assert.deepEqual(
    graph.toModel().graph?.node.map((node) => [node.name, node.input, node.output]),
    [
      ['y_computed', ['x'], ['y_computed']],
      ['z', ['y_computed'], ['z']],
      ['y', ['y_computed', 'y_computed'], ['y']],
    ],
  );
  const session = await ort.InferenceSession.create(graph.toBytes());
  t.after(() => session.release());
  const { y, z } = await session.run({ x: new ort.Tensor('float32', Float32Array.of(-1, 2), [2, 1]) });
  assert.deepEqual(Array.from(y?.data as Float32Array), [0, 4]);
  assert.deepEqual(Array.from(z?.data as Float32Array), [-0, -2]);
  assert.throws(() => graph.renameValue('x', 'x2'), /"x" is not computed by any node/);
  assert.throws(() => graph.renameValue('z', 'z2'), /"z" is already a graph output/);
  assert.throws(() => graph.renameValue('y_computed', 'z'), /defined twice/);
});

test('tensors: raw_data is little-endian, type inference and checks', () => {
  const tensor = createTensorProto({ name: 't', dims: [2], data: new Int32Array([1, -2]) });
  assert.equal(tensor.data_type, 6);
  assert.deepEqual(Array.from(tensor.raw_data ?? []), [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
  const view = new Float32Array(4).subarray(1, 3);
  view.set([1, 2]);
  assert.equal(createTensorProto({ dims: [2], data: view }).raw_data?.length, 8);
  assert.equal(createTensorProto({ dims: [2], data: new Uint8Array([1, 0]), type: 'BOOL' }).data_type, 9);
  assert.equal(createTensorProto({ dims: [1], data: new Uint16Array([0x3c00]), type: 'FLOAT16' }).data_type, 10);
  assert.throws(() => createTensorProto({ dims: [3], data: new Float32Array(2) }), /need 3 elements, got 2/);
  assert.throws(
    () => createTensorProto({ dims: [1], data: new Float32Array(1), type: 'INT32' }),
    /must be a Int32Array/,
  );
});
