// The inference log, feedback and live quality through a real server (registry on, SQLite in a
// temporary folder, real onnxruntime): requests are logged with their ids, feedback is joined and
// answered per item, and the quality endpoint and Prometheus gauges report what the labels imply.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { openInferenceLogStore } from '../../src/store/open-inference-log-store.ts';
import { injectJson, startTestServer, type TestServer } from '../helpers/test-server.ts';

/** y = x0 + 2·x1: a regressor whose answers the test knows. */
async function writeLinearModel(dir: string): Promise<void> {
  const graph = new GraphBuilder({ name: 'linreg' });
  const x = graph.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', 2] });
  const w = graph.addInitializer({ name: 'w', dims: [2, 1], data: new Float32Array([1, 2]) });
  graph.addNode({ op: 'MatMul', inputs: [x, w], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 1] });
  await mkdir(join(dir, 'linreg', '1'), { recursive: true });
  await writeFile(join(dir, 'linreg', '1', 'model.onnx'), graph.toBytes());
}

async function start(t: TestContext, inferenceLog: object): Promise<TestServer & { databaseUrl: string }> {
  let databaseUrl = '';
  let artifactsUrl = '';
  const server = await startTestServer(t, {
    fixtures: ['mlp'],
    withoutGrpc: true,
    repository: async (dir) => {
      await writeLinearModel(dir);
      databaseUrl = `sqlite:${join(dir, '.state', 'stratum.db')}`;
      artifactsUrl = `file:${join(dir, '.state', 'artifacts')}`;
    },
    overrides: {
      registry: true,
      // Read when the configuration is built, after the repository callback named the folder.
      get databaseUrl() {
        return databaseUrl;
      },
      get artifactsUrl() {
        return artifactsUrl;
      },
      inferenceLog: { flushIntervalMs: 20, ...inferenceLog },
    } as never,
  });
  return Object.assign(server, { databaseUrl });
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

interface InferReply {
  id?: string;
  outputs: { name: string; data: number[] }[];
}

async function inferMlp(server: TestServer, seed: number, id?: string): Promise<{ id: string; predicted: number }> {
  const data = Array.from({ length: 784 }, (_, i) => Math.sin(seed * 7.1 + i * 0.37));
  const reply = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { ...(id !== undefined && { id }), inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data }] },
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  const json = reply.json as InferReply;
  assert.ok(typeof json.id === 'string' && json.id.length > 0, 'a logged request gets an id back');
  return { id: json.id, predicted: argmax(json.outputs[0]?.data ?? []) };
}

test('classification: logged requests take feedback per item and give live accuracy', async (t) => {
  const server = await start(t, { sampleRate: 1 });
  const answered = [];
  for (let i = 0; i < 10; i++) answered.push(await inferMlp(server, i));
  const own = await inferMlp(server, 99, 'client-id-1');
  assert.equal(own.id, 'client-id-1', 'the client id is kept and returned');

  // 7 right, 3 wrong: accuracy 0.7.
  const items: unknown[] = answered.map((a, i) => ({
    request_id: a.id,
    label: i < 7 ? a.predicted : (a.predicted + 1) % 10,
  }));
  items.push({ request_id: 'never-seen', label: 1 });
  items.push({ request_id: own.id, label: 'cat' });
  items.push({ request_id: own.id, label: 10 });
  items.push({ label: 1 });
  const reply = await injectJson(server, { url: '/api/v1/feedback', body: { items } });
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  const result = reply.json as {
    accepted: number;
    relabelled: number;
    rejected: { index: number; code: string; reason: string; request_id: string | null }[];
  };
  assert.equal(result.accepted, 10);
  assert.equal(result.relabelled, 0);
  assert.deepEqual(
    result.rejected.map((r) => [r.index, r.code, r.request_id]),
    [
      [10, 'unknown_request', 'never-seen'],
      [11, 'wrong_label', 'client-id-1'],
      [12, 'wrong_label', 'client-id-1'],
      [13, 'invalid_item', null],
    ],
  );
  assert.match(result.rejected[0]?.reason ?? '', /unknown request id \(not logged/);
  assert.match(result.rejected[1]?.reason ?? '', /expected an integer class from 0 to 9 .* got "cat"/);

  const quality = await injectJson(server, { url: '/api/v1/deployments/mlp/quality' });
  assert.equal(quality.status, 200, JSON.stringify(quality.json));
  const body = quality.json as {
    deployment: string;
    versions: {
      version: string;
      task: string;
      labelled: number;
      metrics: { accuracy: number; auc: number | null; f1: number };
      series: { at: string; metrics: { accuracy: number } }[];
    }[];
  };
  assert.equal(body.deployment, 'mlp');
  assert.equal(body.versions.length, 1);
  const [v1] = body.versions;
  assert.equal(v1?.version, '1');
  assert.equal(v1?.task, 'classification');
  assert.equal(v1?.labelled, 10);
  assert.equal(v1?.metrics.accuracy, 0.7);
  assert.ok(v1 !== undefined && v1.metrics.f1 >= 0 && v1.metrics.f1 <= 1);
  assert.equal(v1?.series.length, 1, 'every record falls in the latest slice');
  assert.equal(v1?.series[0]?.metrics.accuracy, 0.7);
  assert.ok(!Number.isNaN(Date.parse(v1?.series[0]?.at ?? '')));

  const metrics = await injectJson(server, { url: '/metrics' });
  const text = metrics.raw.toString('utf8');
  assert.match(text, /stratum_live_quality\{deployment="mlp",version="1",metric="accuracy"\} 0\.7\b/);
  assert.match(text, /stratum_live_quality_labelled\{deployment="mlp",version="1"\} 10\b/);
  assert.match(text, /stratum_feedback_items_total\{outcome="accepted"\} 10\b/);
  assert.match(text, /stratum_feedback_items_total\{outcome="wrong_label"\} 2\b/);
  assert.match(text, /stratum_inference_log_records_total\{outcome="written"\} 11\b/);

  // The last label wins: correcting a wrong one raises accuracy to 0.8.
  const fix = answered[7] as { id: string; predicted: number };
  const again = await injectJson(server, {
    url: '/api/v1/feedback',
    body: { items: [{ request_id: fix.id, label: fix.predicted }] },
  });
  assert.deepEqual(again.json, { accepted: 1, relabelled: 1, rejected: [] });
  const after = (await injectJson(server, { url: '/api/v1/deployments/mlp/quality' })).json as typeof body;
  assert.equal(after.versions[0]?.metrics.accuracy, 0.8);

  const unknown = await injectJson(server, { url: '/api/v1/deployments/nothing/quality' });
  assert.equal(unknown.status, 404);
  const empty = await injectJson(server, { url: '/api/v1/feedback', body: { items: [] } });
  assert.equal(empty.status, 400);
});

test('regression: RMSE and MAE from labels, per-deployment sample rates and redaction', async (t) => {
  const server = await start(t, {
    sampleRate: 0,
    deployments: { linreg: { sampleRate: 1, redact: { x: 'hash' } } },
  });
  // mlp logs nothing (rate 0): no id is generated for it.
  const data = Array.from({ length: 784 }, () => 0.5);
  const plain = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data }] },
  });
  assert.equal((plain.json as InferReply).id, undefined);

  const rows = [
    [1, 2],
    [3, -1],
    [0.5, 0.25],
    [-2, 4],
  ];
  const ids: string[] = [];
  for (const row of rows) {
    const reply = await injectJson(server, {
      url: '/v2/models/linreg/infer',
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: row }] },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    ids.push((reply.json as InferReply).id as string);
  }
  // A two-row request takes one label per row.
  const two = await injectJson(server, {
    url: '/v2/models/linreg/infer',
    body: { id: 'pair', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 1, 2, 2] }] },
  });
  assert.equal(two.status, 200);
  // Predictions are x0 + 2·x1 = 5, 1, 1, 6 and 3, 6; labels are off by 1, -1, 2, 0 and 0, -2.
  const errors = [1, -1, 2, 0, 0, -2];
  const predictions = [5, 1, 1, 6, 3, 6];
  const labels = predictions.map((p, i) => p + (errors[i] as number));
  const feedback = await injectJson(server, {
    url: '/api/v1/feedback',
    body: {
      items: [
        ...ids.map((id, i) => ({ request_id: id, label: labels[i] })),
        { request_id: 'pair', label: 3 },
        { request_id: 'pair', label: [labels[4], labels[5]] },
        { request_id: ids[0], label: 'high' },
      ],
    },
  });
  const result = feedback.json as { accepted: number; rejected: { index: number; code: string; reason: string }[] };
  assert.equal(result.accepted, 5);
  assert.deepEqual(
    result.rejected.map((r) => [r.index, r.code]),
    [
      [4, 'wrong_label'],
      [6, 'wrong_label'],
    ],
  );
  assert.match(result.rejected[0]?.reason ?? '', /2 row\(s\)/);
  assert.match(result.rejected[1]?.reason ?? '', /expected a finite number \(regression\)/);

  const quality = (await injectJson(server, { url: '/api/v1/deployments/linreg/quality' })).json as {
    versions: { task: string; labelled: number; metrics: { rmse: number; mae: number } }[];
  };
  const [v] = quality.versions;
  assert.equal(v?.task, 'regression');
  assert.equal(v?.labelled, 5);
  const expectedMae = errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length;
  const expectedRmse = Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
  assert.ok(Math.abs((v?.metrics.mae ?? 0) - expectedMae) < 1e-6, `mae ${v?.metrics.mae}`);
  assert.ok(Math.abs((v?.metrics.rmse ?? 0) - expectedRmse) < 1e-6, `rmse ${v?.metrics.rmse}`);

  // What the log holds: hashed inputs (equal values hash alike), outputs as they were, latency, version.
  const log = await openInferenceLogStore({ url: server.databaseUrl });
  t.after(() => log.close());
  const window = await log.readWindow({ deployment: 'linreg', limit: 100 });
  assert.equal(window.length, 5);
  const first = window.find((r) => r.requestId === ids[0]);
  assert.equal(first?.inputs.x?.redacted, 'hash');
  assert.equal(first?.inputs.x?.data.length, 2);
  assert.ok(first?.inputs.x?.data.every((h) => typeof h === 'string' && /^[0-9a-f]{16}$/.test(h)));
  // Equal values hash alike: the pair's rows are [1, 1] and [2, 2].
  const pair = window.find((r) => r.requestId === 'pair')?.inputs.x?.data ?? [];
  assert.equal(pair[0], pair[1]);
  assert.equal(pair[2], pair[3]);
  assert.notEqual(pair[0], pair[2]);
  assert.deepEqual(first?.outputs.y, { datatype: 'FP32', shape: [1, 1], data: [5] });
  assert.equal(first?.version, '1');
  assert.ok((first?.latencyMs ?? -1) >= 0);
  assert.equal(await log.count('mlp'), 0);
});
