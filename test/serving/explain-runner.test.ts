/**
 * The explain thread: values computed in it are those the explainer computes on the main thread,
 * bit for bit; the event loop keeps turning while a large block is explained; a model that cannot
 * be explained fails with the explainer's own error; after close, explanations are refused.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { readExplainer } from '../../src/explain/read-explainer.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { createExplainRunner } from '../../src/serving/explain-runner.ts';
import { exportGbdtOnnx } from '../../src/train/gbdt/export-onnx.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { makeDataset } from '../train/gbdt/synthetic-data.ts';

const NUM_FEATURES = 6;

function model(): { bytes: Uint8Array; features: Float32Array } {
  const set = makeDataset({ kind: 'binary', numRows: 1500, seed: 5, numFeatures: NUM_FEATURES });
  const gbdt = trainGbdt({
    features: set.features,
    numFeatures: NUM_FEATURES,
    labels: set.labels,
    objective: 'binary',
    params: { numTrees: 60, maxDepth: 6, learningRate: 0.1, seed: 2 },
  });
  return { bytes: exportGbdtOnnx(gbdt, { inputName: 'x' }), features: set.features.slice(0, 300 * NUM_FEATURES) };
}

test('values from the thread equal the explainer on the main thread, while the event loop turns', async (t) => {
  const { bytes, features } = model();
  const runner = createExplainRunner({ bytes, target: 'model "trees" version 1' });
  t.after(() => runner.close());
  const direct = readExplainer(bytes, 'model "trees" version 1').explain(features);

  let settled = false;
  const pending = runner.explain(features).finally(() => {
    settled = true;
  });
  let turns = 0;
  while (!settled) {
    await nextTurn();
    turns++;
  }
  const threaded = await pending;
  assert.ok(turns > 1, `the event loop turned ${turns} times while the thread computed`);
  assert.deepEqual(threaded.base, direct.base);
  assert.deepEqual(threaded.values, direct.values);
  assert.equal(features.length, 300 * NUM_FEATURES, "the caller's features are not detached");

  // Rows of none give the base alone; a second request uses the same thread.
  const empty = await runner.explain(new Float32Array(0));
  assert.equal(empty.values.length, 0);
  assert.deepEqual(empty.base, direct.base);
});

test('an unexplainable model fails with the explainer error; a closed runner refuses', async (t) => {
  const runner = createExplainRunner({ bytes: FIXTURES.mlp.build(), target: 'model "mlp" version 1' });
  t.after(() => runner.close());
  await assert.rejects(
    runner.explain(new Float32Array(784)),
    (e: unknown) =>
      e instanceof StratumError &&
      e.code === 'UNSUPPORTED' &&
      /model "mlp" version 1 cannot be explained/.test(e.message),
  );
  await runner.close();
  await assert.rejects(
    runner.explain(new Float32Array(784)),
    (e: unknown) => e instanceof StratumError && e.code === 'MODEL_NOT_READY',
  );
});
