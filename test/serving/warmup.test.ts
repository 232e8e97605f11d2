/**
 * Warm-up before a version takes traffic: a synthetic warm-up that fails (zeros are no valid
 * divisor) is recorded in the log, the metric and the repository index, and the version serves
 * anyway; declared warm-up inputs (random values in a range, a file of sample requests) are what
 * runs; a bad declaration is refused naming the file and field; and a version registered by a
 * training run is warmed with the sample rows stored with it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { attr } from '../../src/onnx/attribute.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { DATA_TYPE } from '../../src/onnx/onnx-proto.ts';
import { openTrainingStores } from '../../src/cli/training-stores.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { runTraining } from '../../src/train/run/run-training.ts';
import { parseTrainSpec } from '../../src/train/run/train-spec.ts';
import { api } from '../helpers/management-api.ts';
import { injectJson, startRegistryServer, startTestServer } from '../helpers/test-server.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';

/** y = a / b on INT32: a zero divisor is an error in onnxruntime, so zeros cannot warm it up. */
function divisionModel(): Uint8Array {
  const graph = new GraphBuilder({ name: 'divide' });
  graph.addInput({ name: 'a', type: 'INT32', shape: ['batch', 4] });
  graph.addInput({ name: 'b', type: 'INT32', shape: ['batch', 4] });
  graph.addNode({ op: 'Div', inputs: ['a', 'b'], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'INT32', shape: ['batch', 4] });
  return graph.toBytes();
}

const DIVIDE = divisionModel();

function writeDivide(files: Record<string, string> = {}) {
  return async (dir: string): Promise<void> => {
    await mkdir(join(dir, 'divide', '1'), { recursive: true });
    await writeFile(join(dir, 'divide', '1', 'model.onnx'), DIVIDE);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'divide', name), text);
  };
}

const divideRequest = (rows = 1) => ({
  inputs: [
    { name: 'a', datatype: 'INT32', shape: [rows, 4], data: Array.from({ length: rows * 4 }, (_, i) => 12 + i) },
    { name: 'b', datatype: 'INT32', shape: [rows, 4], data: new Array<number>(rows * 4).fill(3) },
  ],
});

interface IndexRow {
  name: string;
  version?: string;
  state: string;
  reason?: string;
  warmup?: { source: string; runs: number; failures: number; error?: string };
}

async function indexRow(server: Parameters<typeof injectJson>[0], name: string): Promise<IndexRow | undefined> {
  const res = await injectJson(server, { method: 'POST', url: '/v2/repository/index', body: {} });
  assert.equal(res.status, 200);
  return (res.json as IndexRow[]).find((row) => row.name === name);
}

function warmupMetric(text: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`stratum_warmup_runs_total{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

test('a model whose zero warm-up fails is served; the log, the metric and the index say why', async (t) => {
  const logs = new PassThrough();
  const lines: string[] = [];
  logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const server = await startTestServer(t, {
    fixtures: [],
    repository: writeDivide(),
    overrides: { logLevel: 'warn' },
    logDestination: logs,
  });

  const row = await indexRow(server, 'divide');
  assert.equal(row?.state, 'READY');
  assert.deepEqual(
    { source: row?.warmup?.source, runs: row?.warmup?.runs, failures: row?.warmup?.failures },
    { source: 'zeros', runs: 1, failures: 1 },
  );
  assert.match(
    row?.reason ?? '',
    /^warm-up with zeros failed \(1 of 1 runs\), serving anyway: zeros inputs "a" \[1,4\], "b" \[1,4\]: .*division by zero/i,
  );

  const ready = await injectJson(server, { url: '/v2/models/divide/ready' });
  assert.equal(ready.status, 200);
  const res = await injectJson(server, { url: '/v2/models/divide/infer', body: divideRequest(2) });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.deepEqual((res.json as { outputs: { data: number[] }[] }).outputs[0]?.data, [4, 4, 4, 5, 5, 5, 6, 6]);

  const metrics = await server.metrics.render();
  assert.equal(warmupMetric(metrics, 'model="divide",version="1",source="zeros",outcome="failed"'), 1);

  const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['model'] === 'divide');
  assert.equal(warning?.['level'], 'warn');
  assert.equal(warning?.['msg'], 'warm-up failed; the version serves anyway');
  assert.equal((warning?.['warmup'] as { source: string }).source, 'zeros');
});

test('declared warm-up inputs are what runs: random values in a range, or a file of sample requests', async (t) => {
  await t.test('random values in [1, 9] are valid divisors: the warm-up succeeds at every batch size', async (t) => {
    const config = { warmup: { batchSizes: [1, 4], data: { random: { min: 1, max: 9, seed: 5 } } } };
    const server = await startTestServer(t, {
      fixtures: [],
      repository: writeDivide({ 'config.json': JSON.stringify(config) }),
    });
    const row = await indexRow(server, 'divide');
    assert.equal(row?.state, 'READY');
    assert.equal(row?.reason, undefined);
    assert.equal(row?.warmup, undefined, 'the index details a warm-up only when it failed');
    const metrics = await server.metrics.render();
    assert.equal(warmupMetric(metrics, 'model="divide",version="1",source="random",outcome="ok"'), 2);
    assert.equal(warmupMetric(metrics, 'model="divide",version="1",source="zeros",outcome="failed"'), undefined);
  });

  await t.test('random strings are decimal numbers: a model that parses strings warms up', async (t) => {
    const graph = new GraphBuilder({ name: 'parse' });
    graph.addInput({ name: 'text', type: 'STRING', shape: ['batch', 2] });
    graph.addNode({ op: 'Cast', inputs: ['text'], outputs: ['y'], attributes: { to: attr.int(DATA_TYPE.FLOAT) } });
    graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 2] });
    const writeParse = (config: object) => async (dir: string) => {
      await mkdir(join(dir, 'parse', '1'), { recursive: true });
      await writeFile(join(dir, 'parse', '1', 'model.onnx'), graph.toBytes());
      await writeFile(join(dir, 'parse', 'config.json'), JSON.stringify(config));
    };
    const zeros = await startTestServer(t, { fixtures: [], repository: writeParse({ warmup: true }) });
    assert.match((await indexRow(zeros, 'parse'))?.reason ?? '', /warm-up with zeros failed/);
    const random = await startTestServer(t, {
      fixtures: ['all_types'],
      repository: writeParse({ warmup: { data: { random: { min: -100, max: 100 } } } }),
      modelConfigs: { all_types: { warmup: { batchSizes: [1, 3], data: { random: { min: -3, max: 300 } } } } },
    });
    assert.deepEqual(await indexRow(random, 'parse'), { name: 'parse', version: '1', state: 'READY' });
    // Every datatype (FP16, 64-bit integers, BOOL, BYTES, …) gets random values that onnxruntime takes.
    assert.deepEqual(await indexRow(random, 'all_types'), { name: 'all_types', version: '1', state: 'READY' });
    const metrics = await random.metrics.render();
    assert.equal(warmupMetric(metrics, 'model="all_types",version="1",source="random",outcome="ok"'), 2);
    const res = await injectJson(random, {
      url: '/v2/models/parse/infer',
      body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 2], data: ['2.5', '-1e3'] }] },
    });
    assert.deepEqual((res.json as { outputs: { data: number[] }[] }).outputs[0]?.data, [2.5, -1000]);
  });

  await t.test(
    'a file of sample requests runs each request on every instance; a changed file is re-read',
    async (t) => {
      const requests = [divideRequest(1), divideRequest(3)];
      const server = await startTestServer(t, {
        fixtures: [],
        overrides: { runtime: { workers: 2 } },
        repository: writeDivide({
          'config.json': JSON.stringify({ warmup: { requests: 'warmup.json' } }),
          'warmup.json': JSON.stringify(requests),
        }),
      });
      const row = await indexRow(server, 'divide');
      assert.deepEqual(row, { name: 'divide', version: '1', state: 'READY' });
      const metrics = await server.metrics.render();
      assert.equal(warmupMetric(metrics, 'model="divide",version="1",source="requests",outcome="ok"'), 4);

      // A request that does not fit the model fails its warm-up run: recorded, and the model serves.
      const wrong = { inputs: [{ name: 'x', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] };
      await writeFile(join(server.dir, 'divide', 'warmup.json'), JSON.stringify(wrong));
      const load = await injectJson(server, { method: 'POST', url: '/v2/repository/models/divide/load', body: {} });
      assert.equal(load.status, 200, JSON.stringify(load.json));
      const after = await indexRow(server, 'divide');
      assert.equal(after?.state, 'READY');
      assert.deepEqual(
        { source: after?.warmup?.source, runs: after?.warmup?.runs, failures: after?.warmup?.failures },
        { source: 'requests', runs: 1, failures: 1 },
      );
      assert.match(after?.reason ?? '', /requests request 1: unexpected input "x"/);
      const res = await injectJson(server, { url: '/v2/models/divide/infer', body: divideRequest(1) });
      assert.equal(res.status, 200);
    },
  );
});

test('a bad warm-up declaration is refused, naming the file and the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-warmup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'random range upside down',
      { 'config.json': JSON.stringify({ warmup: { data: { random: { min: 5, max: 1 } } } }) },
      /divide\/config\.json: warmup\.data\.random: min must not be greater than max/,
    ],
    [
      'a requests path outside the model folder',
      { 'config.json': JSON.stringify({ warmup: { requests: '../other/warmup.json' } }) },
      /divide\/config\.json: warmup\.requests: must be a path inside the model folder/,
    ],
    [
      'a requests file that is missing',
      { 'config.json': JSON.stringify({ warmup: { requests: 'warmup.json' } }) },
      /divide\/warmup\.json: cannot read the warm-up requests that config\.json declares/,
    ],
    [
      'a requests file that is not JSON',
      { 'config.json': JSON.stringify({ warmup: { requests: 'warmup.json' } }), 'warmup.json': '{"inputs": [' },
      /divide\/warmup\.json: not valid JSON/,
    ],
    [
      'a request in the file with a negative dimension',
      {
        'config.json': JSON.stringify({ warmup: { requests: 'warmup.json' } }),
        'warmup.json': JSON.stringify([
          divideRequest(1),
          { inputs: [{ name: 'a', datatype: 'INT32', shape: [-1, 4], data: [] }] },
        ]),
      },
      /divide\/warmup\.json: request 2: invalid inference request: input "a": shape\[0\] must be ≥ 0, got -1/,
    ],
  ];
  for (const [label, files, pattern] of cases) {
    await t.test(label, async (t) => {
      const server = await startTestServer(t, { fixtures: [], repository: writeDivide(files) });
      const row = await indexRow(server, 'divide');
      assert.equal(row?.state, 'UNAVAILABLE');
      assert.match(row?.reason ?? '', pattern);
    });
  }
});

test('a version registered by a training run is warmed up with the sample rows stored with it', async (t) => {
  const server = await startRegistryServer(t);
  const { rows, labels } = tabularRows({ count: 300, seed: 4 });
  const csv = ['age,income,city,label']
    .concat(
      rows.map((row, i) =>
        [row['age'], row['income'], row['city'], labels[i] === 1 ? 'good' : 'bad']
          .map((v) => (v === null || v === undefined ? '' : String(v)))
          .join(','),
      ),
    )
    .join('\n');
  await writeFile(join(server.dir, 'reviews.csv'), `${csv}\n`);
  const spec = parseTrainSpec({
    name: 'reviews',
    data: { source: { format: 'csv', path: 'reviews.csv' }, label: 'label' },
    split: { validation: 0.25, seed: 3 },
    features: {
      transforms: [
        { column: 'age', transform: 'standardize', missing: 'mean' },
        { column: 'income', transform: 'impute' },
        { column: 'city', transform: 'onehot', topK: 4 },
      ],
    },
    model: { kind: 'gbdt', objective: 'binary', params: { numTrees: 5, maxDepth: 2, seed: 1 } },
    register: { model: 'reviews' },
  });
  // Trained as `stratum train` does: on stores of its own over the server's database and folder.
  const stores = await openTrainingStores({
    config: {
      databaseUrl: server.databaseUrl,
      artifactsUrl: server.artifactsUrl,
      registryPollMs: 200,
      bodyLimitBytes: 1 << 30,
    },
    logger: createLogger({ level: 'silent' }),
  });
  t.after(() => stores.close());
  const trained = await runTraining(spec, {
    store: stores.store,
    artifacts: stores.artifacts,
    registry: stores.registry,
    by: 'test',
    baseDir: server.dir,
  });
  assert.ok(trained.version?.lineage.samples, 'the version names its sample rows');

  const created = await api(server, {
    url: '/api/v1/deployments',
    body: { name: 'reviews', routes: [{ version: trained.version.version, weight: 100 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await server.deployments?.sync();

  const status = server.deployments?.status('reviews');
  assert.deepEqual(status?.warmup[String(trained.version.version)], { source: 'samples', runs: 1, failures: 0 });
  const metrics = await server.metrics.render();
  assert.equal(warmupMetric(metrics, 'model="reviews",version="1",source="samples",outcome="ok"'), 1);
  const row = (await server.service.index()).find((r) => r.name === 'reviews');
  assert.deepEqual(row, { name: 'reviews', version: '1', state: 'READY' });
});
