/**
 * signatureFromGraph agrees with onnxruntime: for every fixture, the signature read from the
 * graph equals `signatureFromMetadata` over the session's metadata (what serving uses); bytes
 * that are not a model, and models Stratum cannot serve, are INVALID_MODEL with the reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { StratumError } from '../../src/errors/index.ts';
import { FIXTURE_NAMES, FIXTURES } from '../../src/onnx/fixtures.ts';
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { signatureFromGraph } from '../../src/onnx/graph-signature.ts';
import { OnnxDecodeError } from '../../src/onnx/onnx-decode-error.ts';
import { DATA_TYPE, decodeModel, encodeModel, type ModelProto, type TypeProto } from '../../src/onnx/onnx-proto.ts';
import type { WireValueMetadata } from '../../src/runtime/messages.ts';
import { signatureFromMetadata } from '../../src/serving/signature.ts';
import type { Signature } from '../../src/tensor/signature.ts';

/** What serving would record for these bytes: onnxruntime's metadata, as session-worker ships it. */
async function ortSignature(bytes: Uint8Array): Promise<Signature> {
  // Severity 3 (errors only): models that list initializers as inputs make onnxruntime warn.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    return signatureFromMetadata(session.inputMetadata.map(toWire), session.outputMetadata.map(toWire));
  } finally {
    await session.release();
  }
}

// The same conversion as src/runtime/session-worker.ts (which cannot be imported: it is a worker).
function toWire(meta: ort.InferenceSession.ValueMetadata): WireValueMetadata {
  if (!meta.isTensor) return { name: meta.name, isTensor: false };
  return { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] };
}

function decodeReason(bytes: Uint8Array): string {
  try {
    decodeModel(bytes);
  } catch (err) {
    if (err instanceof OnnxDecodeError) return err.reason;
    throw err;
  }
  return assert.fail('expected the bytes not to decode');
}

function assertInvalidModel(bytes: Uint8Array, message: RegExp | string): StratumError {
  let caught: StratumError | undefined;
  assert.throws(
    () => signatureFromGraph(bytes),
    (err: unknown) => {
      assert.ok(err instanceof StratumError, `expected a StratumError, got ${String(err)}`);
      assert.equal(err.code, 'INVALID_MODEL');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      caught = err;
      return true;
    },
  );
  return caught ?? assert.fail('no error');
}

/** A one-node model `x → Identity → y`, then `edit` applied to the decoded ModelProto. */
function identityModel(edit: (model: ModelProto) => void = () => {}): Uint8Array {
  const graph = new GraphBuilder({ name: 'identity' });
  graph.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', 2] });
  graph.addNode({ op: 'Identity', inputs: ['x'], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 2] });
  const model = graph.toModel();
  edit(model);
  return encodeModel(model);
}

function setInputType(model: ModelProto, type: TypeProto): void {
  const graph = model.graph ?? assert.fail('no graph');
  const [first, ...rest] = graph.input;
  assert.ok(first);
  graph.input = [{ ...first, type }, ...rest];
}

describe('signatureFromGraph equals what onnxruntime reports', () => {
  for (const name of FIXTURE_NAMES) {
    test(`fixture ${name}`, async () => {
      const bytes = FIXTURES[name].build();
      const fromGraph = signatureFromGraph(bytes);
      assert.deepEqual(fromGraph, await ortSignature(bytes));
      assert.deepEqual(
        fromGraph.inputs.map((spec) => spec.name),
        FIXTURES[name].inputs.map((spec) => spec.name),
      );
    });
  }

  test('an initializer also listed as a graph input is not an input', async () => {
    const graph = new GraphBuilder({ name: 'old_exporter' });
    graph.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', 3] });
    graph.addInitializer({ name: 'w', dims: [3, 1], data: new Float32Array([1, 2, 3]) });
    graph.addNode({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] });
    graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 1] });
    const model = graph.toModel();
    const modelGraph = model.graph ?? assert.fail('no graph');
    // What pre-IR-4 exporters wrote: every weight also declared as a graph input.
    modelGraph.input = [
      ...modelGraph.input,
      {
        name: 'w',
        type: { tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim: [{ dim_value: 3 }, { dim_value: 1 }] } } },
        metadata_props: [],
      },
    ];
    const bytes = encodeModel(model);
    const signature = signatureFromGraph(bytes);
    assert.deepEqual(signature, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    });
    assert.deepEqual(signature, await ortSignature(bytes));
  });

  test('named, unnamed and zero dimensions, and a value of unknown rank', async () => {
    const graph = new GraphBuilder({ name: 'dims' });
    graph.addInput({ name: 'x', type: 'INT64', shape: ['batch', -1, 4, 0] });
    graph.addInput({ name: 'r', type: 'FLOAT' });
    graph.addNode({ op: 'Identity', inputs: ['x'], outputs: ['y'] });
    graph.addNode({ op: 'Identity', inputs: ['r'], outputs: ['s'] });
    graph.addOutput({ name: 'y', type: 'INT64', shape: ['batch', -1, 4, 0] });
    graph.addOutput({ name: 's', type: 'FLOAT' });
    const bytes = graph.toBytes();
    const signature = signatureFromGraph(bytes);
    assert.deepEqual(signature.inputs, [
      { name: 'x', datatype: 'INT64', shape: [-1, -1, 4, 0] },
      // onnxruntime reports an unknown rank as an empty shape; the graph reader agrees.
      { name: 'r', datatype: 'FP32', shape: [] },
    ]);
    assert.deepEqual(signature, await ortSignature(bytes));
  });
});

describe('bytes that are not an ONNX model are INVALID_MODEL with the parser reason', () => {
  // Seeded, so the "random" bytes are the same (and fail the same way) on every run.
  const random = seededRandom(7);
  const cases: Record<string, Uint8Array> = {
    'random bytes': Uint8Array.from({ length: 256 }, () => Math.floor(random.next() * 256)),
    'an empty buffer': new Uint8Array(0),
    'a truncated model': FIXTURES.mlp.build().subarray(0, 200),
    'a JSON file': new TextEncoder().encode(JSON.stringify({ name: 'mlp', inputs: [{ name: 'x' }] }, null, 2)),
  };
  for (const [label, bytes] of Object.entries(cases)) {
    test(label, () => {
      const reason = decodeReason(bytes);
      const err = assertInvalidModel(bytes, `not a valid ONNX model: ${reason}`);
      assert.deepEqual(err.details, { reason });
      assert.ok(err.cause instanceof OnnxDecodeError);
    });
  }

  test('a model without a graph', () => {
    const bytes = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], metadata_props: [] });
    assertInvalidModel(bytes, 'not a valid ONNX model: ModelProto.graph is missing');
  });
});

test('a model without inputs (every value an initializer) has an empty input list, as onnxruntime says', async () => {
  const graph = new GraphBuilder({ name: 'constant' });
  graph.addInitializer({ name: 'c', dims: [1], data: new Float32Array([1]) });
  graph.addNode({ op: 'Identity', inputs: ['c'], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: [1] });
  const bytes = graph.toBytes();
  assert.deepEqual(signatureFromGraph(bytes), { inputs: [], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] });
  assert.deepEqual(signatureFromGraph(bytes), await ortSignature(bytes));
});

describe('models Stratum cannot serve are INVALID_MODEL naming the tensor', () => {
  test('no outputs', () => {
    const bytes = identityModel((model) => {
      if (model.graph) model.graph.output = [];
    });
    assertInvalidModel(bytes, /no graph outputs/);
  });

  test('a sequence input', () => {
    const bytes = identityModel((model) =>
      setInputType(model, { sequence_type: { elem_type: { tensor_type: { elem_type: DATA_TYPE.FLOAT } } } }),
    );
    const err = assertInvalidModel(
      bytes,
      'input "x" is a sequence, not a tensor (sequences, maps and optionals are not served)',
    );
    assert.deepEqual(err.details, { role: 'input', tensor: 'x' });
  });

  test('a map output', () => {
    const bytes = identityModel((model) => {
      const graph = model.graph ?? assert.fail('no graph');
      graph.output = graph.output.map((value) => ({
        ...value,
        type: { map_type: { key_type: DATA_TYPE.INT64, value_type: { tensor_type: { elem_type: DATA_TYPE.FLOAT } } } },
      }));
    });
    assertInvalidModel(bytes, /^output "y" is a map, not a tensor/);
  });

  test('element types the inference protocol cannot carry', () => {
    for (const type of ['BFLOAT16', 'COMPLEX64', 'FLOAT8E4M3FN', 'INT4'] as const) {
      const bytes = identityModel((model) => setInputType(model, { tensor_type: { elem_type: DATA_TYPE[type] } }));
      assertInvalidModel(bytes, `input "x" has element type ${type}, which the inference protocol cannot carry`);
    }
    const unknown = identityModel((model) => setInputType(model, { tensor_type: { elem_type: 99 } }));
    assertInvalidModel(unknown, /input "x" has element type 99,/);
  });

  test('a tensor without element type, or a value without a type or a name', () => {
    assertInvalidModel(
      identityModel((model) => setInputType(model, { tensor_type: {} })),
      'input "x" declares no element type',
    );
    assertInvalidModel(
      identityModel((model) => {
        const graph = model.graph ?? assert.fail('no graph');
        graph.input = graph.input.map(({ type: _type, ...rest }) => rest);
      }),
      'input "x" declares no type',
    );
    assertInvalidModel(
      identityModel((model) => {
        const graph = model.graph ?? assert.fail('no graph');
        graph.output = graph.output.map(({ name: _name, ...rest }) => rest);
      }),
      'output #0 has no name',
    );
  });
});
