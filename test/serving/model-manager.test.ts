import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import type { StratumServer } from '../../src/server/stratum-server.ts';
import { injectJson, startTestServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const mlpRequest = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }] };

async function index(
  server: StratumServer,
): Promise<{ name: string; version?: string; state: string; reason?: string }[]> {
  return (await injectJson(server, { method: 'POST', url: '/v2/repository/index', body: {} })).json as never;
}

test('a new version folder is picked up by the watcher: loaded, warmed, ready; the old one drained and unloaded', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'], overrides: { watch: true, watchIntervalMs: 100 } });
  assert.equal((await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest })).status, 200);

  // Keep traffic flowing while the version changes: no request may fail.
  let stop = false;
  const failures: number[] = [];
  let served = 0;
  const traffic = (async () => {
    while (!stop) {
      const res = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
      if (res.status === 200) served++;
      else failures.push(res.status);
    }
  })();

  await mkdir(join(server.dir, 'mlp', '2'));
  await writeFile(join(server.dir, 'mlp', '2', 'model.onnx'), FIXTURES.mlp.build());
  await waitFor('version 2 to serve', async () => {
    const res = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
    return (res.json as { model_version?: string }).model_version === '2';
  });
  await waitFor('version 1 to be unloaded', async () => !(await index(server)).some((r) => r.version === '1'));
  stop = true;
  await traffic;
  assert.deepEqual(failures, [], 'no request failed during the swap');
  assert.ok(served > 0);
  const meta = (await injectJson(server, { url: '/v2/models/mlp' })).json as { versions: string[] };
  assert.deepEqual(meta.versions, ['2']);
  assert.equal((await injectJson(server, { url: '/v2/models/mlp/versions/1/infer', body: mlpRequest })).status, 404);
});

test('a model folder that appears is loaded, and one that disappears is unloaded', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'], overrides: { watch: true, watchIntervalMs: 100 } });
  await mkdir(join(server.dir, 'fixed_batch', '1'), { recursive: true });
  await writeFile(join(server.dir, 'fixed_batch', '1', 'model.onnx'), FIXTURES.fixed_batch.build());
  await waitFor(
    'fixed_batch to be ready',
    async () => (await injectJson(server, { url: '/v2/models/fixed_batch/ready' })).status === 200,
  );
  await rm(join(server.dir, 'fixed_batch'), { recursive: true });
  await waitFor(
    'fixed_batch to be gone',
    async () => (await injectJson(server, { url: '/v2/models/fixed_batch' })).status === 404,
  );
});

test('a model explicitly unloaded stays unloaded until loaded again, and load re-reads config.json', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'], overrides: { watch: true, watchIntervalMs: 100 } });
  assert.equal((await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/unload' })).status, 200);
  const unloaded = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
  assert.equal(unloaded.status, 503);
  assert.match((unloaded.json as { error: string }).error, /no ready version/);
  // Proof that the watcher has looked at the repository since the unload: it loads a model that
  // appears afterwards. Models are visited in name order within one poll, so by the time the
  // later-named one is ready, the same poll has passed over "mlp".
  await mkdir(join(server.dir, 'zz_probe', '1'), { recursive: true });
  await writeFile(join(server.dir, 'zz_probe', '1', 'model.onnx'), FIXTURES.fixed_batch.build());
  await waitFor(
    'the watcher to load zz_probe',
    async () => (await injectJson(server, { url: '/v2/models/zz_probe/ready' })).status === 200,
  );
  assert.equal(
    (await index(server)).find((r) => r.name === 'mlp')?.state,
    'UNAVAILABLE',
    'the watcher did not bring it back',
  );

  await writeFile(join(server.dir, 'mlp', 'config.json'), JSON.stringify({ maxBatchSize: 0 }));
  assert.equal((await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/load' })).status, 200);
  assert.equal((await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest })).status, 200);
  assert.equal(server.service.manager?.resolve('mlp').batched, false, 'the new config.json was applied');
});

test('reloading a model with a broken config keeps the old version serving and reports why', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  await writeFile(join(server.dir, 'mlp', 'config.json'), JSON.stringify({ maxBatchSize: -3, colour: 'red' }));
  const res = await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/load' });
  assert.equal(res.status, 400);
  assert.match(
    (res.json as { error: string }).error,
    /mlp\/config\.json: maxBatchSize: .*; \(top level\): unknown key "colour" \(known keys: .*\)$/,
  );
  assert.equal((await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest })).status, 200);
});

test('the version policy selects which versions are served', async (t) => {
  const server = await startTestServer(t, {
    fixtures: ['mlp'],
    modelConfigs: { mlp: { versionPolicy: { all: true } } },
  });
  await mkdir(join(server.dir, 'mlp', '3'));
  await writeFile(join(server.dir, 'mlp', '3', 'model.onnx'), FIXTURES.mlp.build());
  assert.equal((await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/load' })).status, 200);
  const meta = (await injectJson(server, { url: '/v2/models/mlp' })).json as { versions: string[] };
  assert.deepEqual(meta.versions, ['1', '3']);
  assert.equal(
    ((await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest })).json as { model_version: string })
      .model_version,
    '3',
    'the default is the highest ready version',
  );
  assert.equal(
    (
      (await injectJson(server, { url: '/v2/models/mlp/versions/1/infer', body: mlpRequest })).json as {
        model_version: string;
      }
    ).model_version,
    '1',
  );
});

test('a model is not ready until warmed up, and an unloaded version answers 503 while draining', async (t) => {
  // A long queue delay and a batch larger than the 24 requests hold them all in the queue, so the
  // drain provably lasts until the question below has been answered (when the requests ran at
  // once, the drain could finish before the question on a busy machine).
  const server = await startTestServer(t, {
    fixtures: ['transformer'],
    modelConfigs: {
      transformer: {
        instances: 1,
        maxBatchSize: 32,
        dynamicBatching: { maxQueueDelayMicroseconds: 5_000_000 },
        warmup: { batchSizes: [1, 8] },
      },
    },
  });
  const stats = server.service.statistics('transformer').model_stats[0];
  assert.equal(stats?.execution_count, 0, 'warm-up runs are not counted as inferences');
  const data = new Array(64 * 128).fill(0.01);
  const body = { inputs: [{ name: 'tokens', datatype: 'FP32', shape: [1, 64, 128], data }] };
  const inflight = Array.from({ length: 24 }, () => injectJson(server, { url: '/v2/models/transformer/infer', body }));
  const version = server.service.manager?.resolve('transformer');
  await waitFor('the 24 requests to be queued', () => version?.load === 24);
  const unload = injectJson(server, { method: 'POST', url: '/v2/repository/models/transformer/unload' });
  await waitFor('the version to be draining', async () =>
    (await server.service.index()).some((r) => r.state === 'UNLOADING'),
  );
  const during = await injectJson(server, { url: '/v2/models/transformer/versions/1/infer', body });
  assert.equal(during.status, 503);
  assert.match((during.json as { error: string }).error, /UNLOADING|unloading/);
  const results = await Promise.all(inflight);
  assert.deepEqual(
    results.map((r) => r.status),
    new Array(24).fill(200),
    'in-flight requests finished before the unload',
  );
  assert.equal((await unload).status, 200);
});

test('a new version that fails to load leaves the version it would replace serving', async (t) => {
  const server = await startTestServer(t, { fixtures: ['mlp'] });
  await mkdir(join(server.dir, 'mlp', '2'));
  await writeFile(join(server.dir, 'mlp', '2', 'model.onnx'), FIXTURES.mlp.build().subarray(0, 1000));
  const res = await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/load' });
  assert.equal(res.status, 400);
  assert.match((res.json as { error: string }).error, /version 2/);
  const served = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
  assert.equal(served.status, 200);
  assert.equal((served.json as { model_version: string }).model_version, '1');
  await writeFile(join(server.dir, 'mlp', '2', 'model.onnx'), FIXTURES.mlp.build());
  assert.equal((await injectJson(server, { method: 'POST', url: '/v2/repository/models/mlp/load' })).status, 200);
  const after = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest });
  assert.equal((after.json as { model_version: string }).model_version, '2');
  assert.deepEqual(((await injectJson(server, { url: '/v2/models/mlp' })).json as { versions: string[] }).versions, [
    '2',
  ]);
});
