/**
 * Dynamic batching is invisible in the results: concurrent requests of batch 1 and 3, stacked by
 * the batcher, each get exactly what onnxruntime-node computes for that request alone; the
 * statistics prove that batches were really formed. A model with a fixed batch dimension is
 * never batched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as ort from 'onnxruntime-node';
import type { FixtureName } from '../../../src/onnx/fixtures.ts';
import { seededRandom } from '../../../src/onnx/fixtures/seeded-random.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { injectJson, startTestServer } from '../../helpers/test-server.ts';
import {
  assertError,
  encodeBytesElements,
  type InferReply,
  injectBinary,
  modelStats,
  parseBinaryReply,
  type Reply,
  referenceRun,
  TOLERANCE,
  view,
} from './http-test-kit.ts';

type Feed = { type: ort.Tensor.Type; data: ort.Tensor.DataType; dims: number[] };

/** One request: how to send it, and the feeds that reproduce it in onnxruntime directly. */
interface Built {
  readonly header: object;
  readonly blobs: readonly Uint8Array[];
  readonly feeds: Record<string, Feed>;
}

const WORDS = ['cat', 'dog', 'bird', 'fish', 'zebra', '', 'naïve ✓'];
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A binary FP32 input (large tensors travel faster that way) with binary outputs. */
function binaryFloat(name: string, dims: number[], seed: number): Built {
  const data = seededRandom(seed).uniform({ length: dims.reduce((a, b) => a * b, 1), limit: 1 });
  return {
    header: {
      parameters: { binary_data_output: true },
      inputs: [{ name, datatype: 'FP32', shape: dims, parameters: { binary_data_size: data.byteLength } }],
    },
    blobs: [bytesOf(data)],
    feeds: { [name]: { type: 'float32', data, dims } },
  };
}

const BUILDERS: Record<Exclude<FixtureName, 'all_types' | 'fixed_batch'>, (rows: number, seed: number) => Built> = {
  mlp(rows, seed) {
    const data = seededRandom(seed).uniform({ length: rows * 784, limit: 1 });
    return {
      header: { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 784], data: Array.from(data) }] },
      blobs: [],
      feeds: { input: { type: 'float32', data, dims: [rows, 784] } },
    };
  },
  cnn: (rows, seed) => binaryFloat('image', [rows, 3, 32, 32], seed),
  transformer: (rows, seed) => binaryFloat('tokens', [rows, 64, 128], seed),
  multi_io(rows, seed) {
    const random = seededRandom(seed);
    const a = random.uniform({ length: rows * 4, limit: 5 });
    const b = Int32Array.from({ length: rows * 4 }, () => Math.floor(random.next() * 200) - 100);
    return {
      header: {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [rows, 4], data: Array.from(a) },
          { name: 'b', datatype: 'INT32', shape: [rows, 4], data: Array.from(b) },
        ],
      },
      blobs: [],
      feeds: { a: { type: 'float32', data: a, dims: [rows, 4] }, b: { type: 'int32', data: b, dims: [rows, 4] } },
    };
  },
  bytes_echo(rows, seed) {
    const random = seededRandom(seed);
    const words = Array.from({ length: rows }, () => WORDS[Math.floor(random.next() * WORDS.length)] ?? '');
    // Odd seeds send BYTES in binary, even ones as JSON, so both paths share batches.
    const binary = seed % 2 === 1;
    const blob = encodeBytesElements(words);
    return {
      header: {
        inputs: [
          {
            name: 'text',
            datatype: 'BYTES',
            shape: [rows, 1],
            ...(binary ? { parameters: { binary_data_size: blob.length } } : { data: words }),
          },
        ],
      },
      blobs: binary ? [blob] : [],
      feeds: { text: { type: 'string', data: words, dims: [rows, 1] } },
    };
  },
};

/** Output values as plain numbers or strings, whichever encoding the reply used. */
function replyOutputs(res: Reply): Map<string, { shape: number[]; data: unknown[] }> {
  const binary = res.headers['inference-header-content-length'] !== undefined;
  const { json, blobs } = binary
    ? parseBinaryReply(res)
    : { json: res.json as InferReply, blobs: new Map<string, Buffer>() };
  const out = new Map<string, { shape: number[]; data: unknown[] }>();
  for (const o of json.outputs) {
    const blob = blobs.get(o.name);
    let data: unknown[];
    if (blob === undefined) data = o.data ?? [];
    else if (o.datatype === 'FP32') data = Array.from(view(blob, Float32Array));
    else assert.fail(`unexpected binary ${o.datatype}`);
    out.set(o.name, { shape: o.shape, data: data.map((v) => (typeof v === 'boolean' ? Number(v) : v)) });
  }
  return out;
}

const normalise = (values: readonly unknown[]): unknown[] => values.map((v) => (typeof v === 'bigint' ? Number(v) : v));

/** Rows of the concurrent requests: sixteen of batch 1 and four of batch 3. */
const SIZES = Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? 3 : 1));
const ROWS = SIZES.reduce((a, b) => a + b, 0);

test('batched results equal unbatched onnxruntime results', async (t) => {
  const models = Object.keys(BUILDERS) as (keyof typeof BUILDERS)[];
  // A batch is cut when it holds every row the concurrent requests carry (or, should one never
  // arrive, after a 10 s delay): batches form whatever the speed of the machine, where a 2 ms
  // delay left it to a race between the timer and the parsing of the requests.
  const batching = {
    maxBatchSize: ROWS,
    dynamicBatching: { maxQueueDelayMicroseconds: 10_000_000 },
    instances: 1,
  };
  const server = await startTestServer(t, {
    fixtures: [...models, 'fixed_batch'],
    modelConfigs: Object.fromEntries([...models, 'fixed_batch'].map((m) => [m, batching])),
    withoutGrpc: true,
  });

  for (const model of models) {
    await t.test(`${model}: 16 concurrent batch-1 and 4 batch-3 requests match onnxruntime run alone`, async () => {
      const before = await modelStats(server, model);
      const built = SIZES.map((rows, i) => BUILDERS[model](rows, 1000 * (models.indexOf(model) + 1) + i));
      const replies = await Promise.all(
        built.map((b) =>
          b.blobs.length > 0
            ? injectBinary(server, { url: `/v2/models/${model}/infer`, header: b.header, blobs: b.blobs })
            : injectJson(server, { url: `/v2/models/${model}/infer`, body: b.header }),
        ),
      );
      for (const [i, res] of replies.entries()) {
        assert.equal(res.status, 200, `request ${i}: ${res.raw.toString('utf8').slice(0, 300)}`);
        const expected = await referenceRun(model, (built[i] as Built).feeds);
        const got = replyOutputs(res);
        assert.deepEqual([...got.keys()].sort(), Object.keys(expected).sort(), `request ${i} outputs`);
        for (const [name, ref] of Object.entries(expected)) {
          const actual = got.get(name);
          assert.deepEqual(actual?.shape, [...ref.dims], `request ${i} ${name} shape`);
          assertClose(actual.data, normalise(ref.data), { ...TOLERANCE, label: `request ${i} ${name}` });
        }
      }
      const after = await modelStats(server, model);
      const executions = after.execution_count - before.execution_count;
      assert.equal(after.inference_count - before.inference_count, ROWS);
      assert.equal(executions, 1, `${executions} executions for ${SIZES.length} requests: one batch holds them all`);
      assert.ok(
        after.batch_stats.some((b) => b.batch_size === ROWS),
        'a batch combined every request',
      );
    });
  }

  await t.test('fixed_batch (batch dimension fixed at 1) is never batched and still answers', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => seededRandom(500 + i).uniform({ length: 8, limit: 2 }));
    const before = await modelStats(server, 'fixed_batch');
    const replies = await Promise.all(
      inputs.map((x) =>
        injectJson(server, {
          url: '/v2/models/fixed_batch/infer',
          body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8], data: Array.from(x) }] },
        }),
      ),
    );
    for (const [i, res] of replies.entries()) {
      assert.equal(res.status, 200, res.raw.toString('utf8'));
      const expected = await referenceRun('fixed_batch', {
        x: { type: 'float32', data: inputs[i] as Float32Array, dims: [1, 8] },
      });
      const y = (res.json as InferReply).outputs[0];
      assert.deepEqual(y?.shape, [1, 2]);
      assertClose(y.data ?? [], expected['y']?.data ?? [], { ...TOLERANCE, label: `fixed_batch ${i}` });
    }
    const after = await modelStats(server, 'fixed_batch');
    assert.equal(after.execution_count - before.execution_count, inputs.length);
    assert.deepEqual(
      after.batch_stats.map((b) => b.batch_size),
      [1],
    );
  });

  await t.test('fixed_batch refuses a [2,8] batch with 400 naming the expected shape', async () => {
    const res = await injectJson(server, {
      url: '/v2/models/fixed_batch/infer',
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 8], data: new Array<number>(16).fill(0.5) }] },
    });
    assertError(res, { code: 'INVALID_INPUT', includes: ['input "x"', 'expected shape [1,8], got [2,8]'] });
    const ok = await injectJson(server, {
      url: '/v2/models/fixed_batch/infer',
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8], data: new Array<number>(8).fill(0.5) }] },
    });
    assert.equal(ok.status, 200);
  });
});
