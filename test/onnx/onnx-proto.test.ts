/**
 * The ONNX codec: models survive encode → decode, and bytes that are not a model are rejected
 * with the parser's reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { OnnxDecodeError } from '../../src/onnx/onnx-decode-error.ts';
import { DATA_TYPE, ATTRIBUTE_TYPE, decodeModel, encodeModel } from '../../src/onnx/onnx-proto.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { attr } from '../../src/onnx/attribute.ts';

function sampleBuilder(): GraphBuilder {
  const graph = new GraphBuilder({
    name: 'sample',
    metadata: { task: 'test', author: 'stratum' },
    docString: 'round trip',
  });
  graph.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', -1, 3] });
  graph.addInitializer({ name: 'w', dims: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  graph.addInitializer({ name: 'labels', dims: [2], data: ['yes', 'no'] });
  graph.addNode({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] });
  graph.addNode({
    op: 'LabelEncoder',
    domain: 'ai.onnx.ml',
    inputs: ['labels'],
    outputs: ['ids'],
    attributes: {
      keys_strings: attr.strings(['yes', 'no']),
      values_int64s: attr.ints([1, 0]),
      default_int64: attr.int(-1),
      note: attr.string('ünïcode'),
      weight: attr.float(0.5),
      floats: attr.floats([0.25, -1]),
      value: attr.tensor({ dims: [2], data: new BigInt64Array([7n, -8n]) }),
    },
  });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', -1, 2] });
  graph.addOutput({ name: 'ids', type: 'INT64', shape: [2] });
  return graph;
}

/** A JSON-comparable copy in which every byte field (Uint8Array or Buffer) is a number array. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  }
  return value;
}

test('encode → decode returns the same model', () => {
  const model = sampleBuilder().toModel();
  const decoded = decodeModel(encodeModel(model));
  assert.deepEqual(plain(decodeModel(Buffer.from(encodeModel(model)))), plain(model));
  assert.deepEqual(plain(decoded), plain(model));
});

test('decoded fields carry ONNX names, numbers and dims', () => {
  const model = decodeModel(sampleBuilder().toBytes());
  assert.equal(model.ir_version, 8);
  assert.deepEqual(model.opset_import, [
    { domain: '', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ]);
  assert.deepEqual(model.metadata_props, [
    { key: 'author', value: 'stratum' },
    { key: 'task', value: 'test' },
  ]);
  const [input] = model.graph.input;
  assert.equal(input?.name, 'x');
  assert.equal(input?.type?.tensor_type?.elem_type, DATA_TYPE.FLOAT);
  assert.deepEqual(input?.type?.tensor_type?.shape?.dim, [{ dim_param: 'batch' }, {}, { dim_value: 3 }]);
  const [weights, labels] = model.graph.initializer;
  assert.deepEqual(weights?.dims, [3, 2]);
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(weights?.raw_data ?? []).buffer)), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    labels?.string_data.map((bytes) => Buffer.from(bytes).toString()),
    ['yes', 'no'],
  );
  const encoder = model.graph.node[1];
  assert.equal(encoder?.domain, 'ai.onnx.ml');
  const attributes = new Map(encoder?.attribute.map((attribute) => [attribute.name, attribute]));
  assert.equal(attributes.get('default_int64')?.type, ATTRIBUTE_TYPE.INT);
  assert.equal(attributes.get('default_int64')?.i, -1);
  assert.deepEqual(attributes.get('values_int64s')?.ints, [1, 0]);
  assert.equal(Buffer.from(attributes.get('note')?.s ?? []).toString(), 'ünïcode');
  assert.equal(attributes.get('weight')?.f, 0.5);
  assert.deepEqual(attributes.get('floats')?.floats, [0.25, -1]);
  assert.equal(attributes.get('value')?.t?.data_type, DATA_TYPE.INT64);
});

test('every fixture decodes with its declared inputs and outputs', () => {
  for (const fixture of Object.values(FIXTURES)) {
    const { graph } = decodeModel(fixture.build());
    assert.deepEqual(
      graph.input.map((value) => value.name),
      fixture.inputs.map((value) => value.name),
    );
    assert.deepEqual(
      graph.output.map((value) => value.name),
      fixture.outputs.map((value) => value.name),
    );
  }
});

test('decodeModel rejects bytes that are not protobuf with the parser reason', () => {
  const garbage = [new Uint8Array([0xff, 0xff, 0xff, 0xff]), new TextEncoder().encode('definitely not an onnx model')];
  for (const bytes of garbage) {
    assert.throws(
      () => decodeModel(bytes),
      (err: unknown) => {
        assert.ok(err instanceof OnnxDecodeError);
        assert.match(err.reason, /wire type|index out of range/);
        assert.match(err.message, /^invalid ONNX model: /);
        return true;
      },
    );
  }
});

test('decodeModel rejects protobuf without the fields every model has', () => {
  assert.throws(() => decodeModel(new Uint8Array()), { name: 'OnnxDecodeError', message: /ir_version is missing/ });
  // Field 1 (ir_version) = 8, and nothing else.
  assert.throws(() => decodeModel(new Uint8Array([0x08, 0x08])), {
    name: 'OnnxDecodeError',
    message: /graph is missing/,
  });
});

test('a truncated model is rejected', () => {
  const bytes = FIXTURES.cnn.build();
  assert.throws(() => decodeModel(bytes.subarray(0, bytes.length - 100)), OnnxDecodeError);
});
