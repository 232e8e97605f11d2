import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type StratumError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { createRuntimePool } from '../../src/runtime/runtime-pool.ts';

const logger = createLogger({ level: 'silent' });
const settings = { intraOpThreads: 1, interOpThreads: 1 };
const mlpFeed = () => [{ name: 'input', type: 'float32', dims: [2, 784], data: new Float32Array(2 * 784).fill(0.25) }];

test('the pool loads a model, reports its metadata and runs it on every instance', async (t) => {
  const pool = createRuntimePool({ workers: 2, logger });
  t.after(() => pool.close());
  const loaded = await pool.load({ key: 'mlp', bytes: FIXTURES.mlp.build(), instances: 2, settings });
  assert.equal(loaded.instances, 2);
  assert.deepEqual(loaded.inputs, [{ name: 'input', isTensor: true, type: 'float32', shape: ['batch', 784] }]);
  const [a, b] = await Promise.all(
    [0, 1].map((instance) => pool.run({ key: 'mlp', instance, feeds: mlpFeed(), fetches: ['logits'] })),
  );
  assert.deepEqual(a?.outputs[0]?.dims, [2, 10]);
  assert.deepEqual(Array.from(a?.outputs[0]?.data as Float32Array), Array.from(b?.outputs[0]?.data as Float32Array));
  assert.ok((a?.computeNs ?? 0) > 0);
});

test('feeds are transferred, not copied: the caller’s buffer is detached after run', async (t) => {
  const pool = createRuntimePool({ workers: 1, logger });
  t.after(() => pool.close());
  await pool.load({ key: 'mlp', bytes: FIXTURES.mlp.build(), instances: 1, settings });
  const feeds = mlpFeed();
  await pool.run({ key: 'mlp', instance: 0, feeds, fetches: ['logits'] });
  assert.equal((feeds[0]?.data as Float32Array).byteLength, 0);
});

test('a model onnxruntime cannot parse is INVALID_MODEL with its reason, and nothing stays loaded', async (t) => {
  const pool = createRuntimePool({ workers: 1, logger });
  t.after(() => pool.close());
  await assert.rejects(
    pool.load({ key: 'bad', bytes: new Uint8Array([1, 2, 3, 4]), instances: 1, settings }),
    (e: StratumError) => {
      assert.equal(e.code, 'INVALID_MODEL');
      assert.match(e.message, /onnxruntime could not load the model/);
      return true;
    },
  );
  await assert.rejects(
    pool.run({ key: 'bad', instance: 0, feeds: [], fetches: [] }),
    (e: StratumError) => e.code === 'MODEL_NOT_READY',
  );
});

test('a replaced worker gets its sessions back and serves again', async (t) => {
  const pool = createRuntimePool({ workers: 2, logger });
  t.after(() => pool.close());
  await pool.load({ key: 'mlp', bytes: FIXTURES.mlp.build(), instances: 2, settings });
  await pool.load({ key: 'cnn', bytes: FIXTURES.cnn.build(), instances: 2, settings });
  const before = await pool.run({ key: 'mlp', instance: 1, feeds: mlpFeed(), fetches: ['logits'] });
  await pool.restartWorker(1);
  const after = await pool.run({ key: 'mlp', instance: 1, feeds: mlpFeed(), fetches: ['logits'] });
  assert.deepEqual(
    Array.from(after.outputs[0]?.data as Float32Array),
    Array.from(before.outputs[0]?.data as Float32Array),
  );
  const cnn = await pool.run({
    key: 'cnn',
    instance: 1,
    feeds: [{ name: 'image', type: 'float32', dims: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32) }],
    fetches: ['logits'],
  });
  assert.deepEqual(cnn.outputs[0]?.dims, [1, 10]);
});

test('unload releases the sessions; close is idempotent and fails later calls cleanly', async () => {
  const pool = createRuntimePool({ workers: 1, logger });
  await pool.load({ key: 'mlp', bytes: FIXTURES.mlp.build(), instances: 1, settings });
  await pool.unload('mlp');
  await assert.rejects(
    pool.run({ key: 'mlp', instance: 0, feeds: mlpFeed(), fetches: ['logits'] }),
    (e: StratumError) => e.code === 'MODEL_NOT_READY',
  );
  await pool.load({ key: 'mlp', bytes: FIXTURES.mlp.build(), instances: 1, settings });
  await pool.close();
  await pool.close();
  await assert.rejects(
    pool.run({ key: 'mlp', instance: 0, feeds: mlpFeed(), fetches: ['logits'] }),
    (e: StratumError) => e.code === 'SHUTTING_DOWN',
  );
});
