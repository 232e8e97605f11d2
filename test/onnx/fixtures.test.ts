/**
 * Every fixture loads in onnxruntime-node, declares the signature its table entry promises, and
 * gives the same rows at batch 4 as at batch 1 (the property dynamic batching relies on).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { FIXTURE_NAMES, FIXTURES } from '../../src/onnx/fixtures.ts';
import { BYTES_ECHO_VOCABULARY } from '../../src/onnx/fixtures/bytes-echo.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { concatRows, concreteShape, halfToNumber, ORT_TYPE, randomFeeds, sliceRows } from './ort-feeds.ts';

const TOLERANCE = { rtol: 1e-5, atol: 1e-5 };
const BATCH = 4;

async function openSession(
  bytes: Uint8Array,
  t: { after(fn: () => Promise<void>): void },
): Promise<ort.InferenceSession> {
  const session = await ort.InferenceSession.create(bytes);
  t.after(() => session.release());
  return session;
}

function assertFinite(name: string, tensor: ort.Tensor): void {
  if (tensor.type === 'float32' || tensor.type === 'float64') {
    for (const value of tensor.data as Float32Array | Float64Array)
      assert.ok(Number.isFinite(value), `${name}: ${value} is not finite`);
    // Well-conditioned weights keep activations near unit scale; 1e3 would mean a bad init.
    for (const value of tensor.data as Float32Array | Float64Array)
      assert.ok(Math.abs(value) < 1e3, `${name}: ${value} is huge`);
  } else if (tensor.type === 'float16') {
    for (const bits of tensor.data as Uint16Array)
      assert.ok(Number.isFinite(halfToNumber(bits)), `${name}: not finite`);
  }
}

for (const name of FIXTURE_NAMES) {
  const fixture = FIXTURES[name];
  const dynamic = fixture.inputs.every((input) => typeof input.shape?.[0] === 'string');

  describe(`fixture ${name}`, () => {
    test('onnxruntime reports the declared signature', async (t) => {
      const session = await openSession(fixture.build(), t);
      assert.deepEqual(
        session.inputNames,
        fixture.inputs.map((input) => input.name),
      );
      assert.deepEqual(
        session.outputNames,
        fixture.outputs.map((output) => output.name),
      );
      const expected = (values: typeof fixture.inputs): unknown[] =>
        values.map((value) => ({ name: value.name, isTensor: true, type: ORT_TYPE[value.type], shape: value.shape }));
      assert.deepEqual(session.inputMetadata, expected(fixture.inputs));
      assert.deepEqual(session.outputMetadata, expected(fixture.outputs));
    });

    test('runs at batch 1 with the declared output shapes and types, finite values', async (t) => {
      const session = await openSession(fixture.build(), t);
      const results = await session.run(randomFeeds(fixture.inputs, { batch: 1, seed: 1 }));
      for (const output of fixture.outputs) {
        const tensor = results[output.name];
        assert.ok(tensor, `output ${output.name} missing`);
        assert.deepEqual(tensor.dims, concreteShape(output, 1));
        assert.equal(tensor.type, ORT_TYPE[output.type]);
        assertFinite(output.name, tensor);
      }
    });

    if (!dynamic) {
      test('rejects a batch of 4 (fixed batch dimension)', async (t) => {
        const session = await openSession(fixture.build(), t);
        const batchedInputs = fixture.inputs.map((input) => ({
          ...input,
          shape: ['batch', ...(input.shape ?? []).slice(1)],
        }));
        const feeds = randomFeeds(batchedInputs, { batch: BATCH, seed: 2 });
        await assert.rejects(session.run(feeds), /invalid dimensions/i);
      });
      return;
    }

    test(`batch ${BATCH} equals ${BATCH} runs at batch 1`, async (t) => {
      const session = await openSession(fixture.build(), t);
      const feeds = randomFeeds(fixture.inputs, { batch: BATCH, seed: 3 });
      const batched = await session.run(feeds);
      const rows: Record<string, ort.Tensor>[] = [];
      for (let row = 0; row < BATCH; row++) {
        const rowFeeds = Object.fromEntries(
          Object.entries(feeds).map(([key, tensor]) => [key, sliceRows(tensor, { start: row, count: 1 })]),
        );
        rows.push(await session.run(rowFeeds));
      }
      for (const output of fixture.outputs) {
        const tensor = batched[output.name];
        assert.ok(tensor);
        assert.deepEqual(tensor.dims, concreteShape(output, BATCH));
        assert.equal(tensor.type, ORT_TYPE[output.type]);
        assertFinite(output.name, tensor);
        const unbatched = concatRows(
          rows.map((result) => result[output.name] ?? assert.fail(`row output ${output.name} missing`)),
        );
        assert.deepEqual(unbatched.dims, [...tensor.dims]);
        assertClose(Array.from(tensor.data as ArrayLike<unknown>), unbatched.data, {
          ...TOLERANCE,
          label: output.name,
        });
      }
    });
  });
}

describe('fixture values', () => {
  test('multi_io computes a + b, a × b in FP64, and a > 0', async (t) => {
    const session = await openSession(FIXTURES.multi_io.build(), t);
    const a = new Float32Array([1.5, -2, 0, 3.25]);
    const b = new Int32Array([2, 3, -4, 0]);
    const results = await session.run({
      a: new ort.Tensor('float32', a, [1, 4]),
      b: new ort.Tensor('int32', b, [1, 4]),
    });
    assert.deepEqual(Array.from(results['sum']?.data as Float32Array), [3.5, 1, -4, 3.25]);
    assert.deepEqual(Array.from(results['prod']?.data as Float64Array), [3, -6, -0, 0]);
    assert.deepEqual(Array.from(results['mask']?.data as Uint8Array), [1, 0, 0, 1]);
  });

  test('bytes_echo echoes strings and maps them to vocabulary ids', async (t) => {
    const session = await openSession(FIXTURES.bytes_echo.build(), t);
    const text = ['dog', 'zebra', '', 'fish', 'naïve ✓'];
    const results = await session.run({ text: new ort.Tensor('string', text, [text.length, 1]) });
    assert.deepEqual(results['echo']?.data, text);
    const ids = text.map((word) => BigInt(BYTES_ECHO_VOCABULARY.indexOf(word)));
    assert.deepEqual(Array.from(results['token_id']?.data as BigInt64Array), ids);
  });

  test('all_types passes every input through unchanged', async (t) => {
    const session = await openSession(FIXTURES.all_types.build(), t);
    const feeds = randomFeeds(FIXTURES.all_types.inputs, { batch: 2, seed: 4 });
    const results = await session.run(feeds);
    for (const [inputName, tensor] of Object.entries(feeds)) {
      const output = results[inputName.replace(/^in_/, 'out_')];
      assert.ok(output);
      assert.equal(output.type, tensor.type);
      assert.deepEqual(Array.from(output.data as ArrayLike<unknown>), Array.from(tensor.data as ArrayLike<unknown>));
    }
  });
});
