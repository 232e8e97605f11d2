/**
 * Running a lone request on the main thread (config.json `inlineRunMaxMicroseconds`): once the
 * model's run time is measured within the bound, sequential requests no longer go to the session
 * worker, and their outputs are exactly what the worker computes; concurrent requests still batch
 * in the worker, with the same results; a bound below the model's run time keeps every run there;
 * and a lone request goes to the worker while the server runs anything else there.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BatchingDefaultsSchema, RuntimeConfigSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createServingMetrics } from '../../src/monitor/serving-metrics.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import { createRuntimePool, type RuntimePool } from '../../src/runtime/runtime-pool.ts';
import { resolveModelConfig } from '../../src/serving/model-config.ts';
import { loadModelVersion, type ModelVersion } from '../../src/serving/model-version.ts';
import type { InferRequest } from '../../src/serving/types.ts';

const logger = createLogger({ level: 'silent' });

/** The pool, counting the runs that reach a worker. */
function countingPool(): { pool: RuntimePool; runs: () => number } {
  const pool = createRuntimePool({ workers: 1, logger });
  let runs = 0;
  return {
    pool: {
      ...pool,
      load: (request) => pool.load(request),
      unload: (key) => pool.unload(key),
      close: () => pool.close(),
      restartWorker: (index) => pool.restartWorker(index),
      get running() {
        return pool.running;
      },
      run(options) {
        runs++;
        return pool.run(options);
      },
    },
    runs: () => runs,
  };
}

async function loadMlp(t: TestContext, inlineRunMaxMicroseconds: number) {
  const { pool, runs } = countingPool();
  const config = resolveModelConfig(
    { inlineRunMaxMicroseconds, instances: 1 },
    { batching: BatchingDefaultsSchema.parse({}), runtime: RuntimeConfigSchema.parse({}) },
  );
  const version: ModelVersion = await loadModelVersion({
    model: 'mlp',
    version: '1',
    bytes: FIXTURES.mlp.build(),
    config,
    pool,
    metrics: createServingMetrics().forVersion('mlp', '1'),
    generation: 1,
  });
  // One hook: the version is unloaded before the pool closes.
  t.after(async () => {
    await version.unload();
    await pool.close();
  });
  // The warm-up's runs go to the worker too; count from here.
  const warmupRuns = runs();
  return { version, pool, runs: () => runs() - warmupRuns };
}

function request(seed: number): InferRequest {
  const data = seededRandom(seed).uniform({ length: 784, limit: 1 });
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data }], binaryOutputs: true };
}

const outputsOf = async (version: ModelVersion, seed: number) =>
  (await version.infer(request(seed), 'rest')).outputs.map((o) => ({
    name: o.name,
    shape: o.shape,
    data: Array.from(o.data as Float32Array),
  }));

test('a lone request runs on the main thread once measured, with the worker’s exact outputs', async (t) => {
  const inline = await loadMlp(t, 10_000);
  const worker = await loadMlp(t, 0);
  // The first run is measured in the worker; from then on a lone request stays on the main thread.
  for (let seed = 1; seed <= 5; seed++) {
    assert.deepEqual(await outputsOf(inline.version, seed), await outputsOf(worker.version, seed));
  }
  assert.equal(inline.runs(), 1);
  assert.equal(worker.runs(), 5);

  // Concurrent requests are batched in the worker, and their results do not change.
  const seeds = [11, 12, 13, 14, 15, 16];
  const together = await Promise.all(seeds.map((seed) => outputsOf(inline.version, seed)));
  for (const [i, seed] of seeds.entries()) assert.deepEqual(together[i], await outputsOf(worker.version, seed));
  assert.ok(inline.runs() > 1, 'the concurrent requests reached the worker');
});

test('a bound below the model’s run time keeps every run in the worker', async (t) => {
  const { version, runs } = await loadMlp(t, 1);
  for (let seed = 1; seed <= 3; seed++) await version.infer(request(seed), 'rest');
  assert.equal(runs(), 3);
});

test('a lone request goes to the worker while another run is in flight there', async (t) => {
  const { version, pool, runs } = await loadMlp(t, 10_000);
  await version.infer(request(1), 'rest');
  await version.infer(request(2), 'rest');
  assert.equal(runs(), 1, 'measured once in the worker, then inline');
  // Another model's batch in the worker (here a direct run of the same session, for the same effect).
  const data = seededRandom(3).uniform({ length: 784, limit: 1 });
  const other = pool.run({
    key: 'mlp:1#1',
    instance: 0,
    feeds: [{ name: 'input', type: 'float32', dims: [1, 784], data }],
    fetches: version.signature.outputs.map((o) => o.name),
  });
  assert.equal(pool.running, 1);
  const lone = version.infer(request(4), 'rest');
  await Promise.all([other, lone]);
  assert.equal(runs(), 3, 'the lone request did not block the event loop: it went to the worker');
});
