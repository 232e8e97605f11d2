// Drift through the real server: settings validated at the route, a window with no rows reported
// as no-data, a drifted window against the training profile (binned) and against a recorded
// reference sample (exact), the stored report served back, and the gauges on /metrics.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { profileDataset } from '../../src/data/profile/index.ts';
import { createMemoryWindowSource } from '../../src/drift/drift-window-source.ts';
import { ksTwoSample } from '../../src/drift/drift-statistics.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';

const MLP = FIXTURES.mlp.build();

function rows(count: number, options: { seed: number; shift: number }) {
  const random = mulberry32(options.seed);
  return Array.from({ length: count }, () => ({
    amount: Math.round((random() * 100 + options.shift) * 100) / 100,
    channel: random() < 0.6 ? 'web' : random() < 0.5 ? 'app' : 'store',
  }));
}

async function setUp(t: TestContext, engine: 'sqlite' | 'postgres') {
  const source = createMemoryWindowSource();
  const server = await startRegistryServer(t, { engine, driftSource: source });
  // The training side's records, written as training writes them: a profiled dataset version.
  const store = await openMetadataStore({ url: server.databaseUrl });
  t.after(() => store.close());
  const training = rows(3000, { seed: 1, shift: 0 });
  await store.recordDatasetVersion({
    version: 'ds-1',
    name: 'payments',
    source: 'memory',
    numRows: training.length,
    profile: await profileDataset(training),
    by: 'test',
  });
  for (let v = 1; v <= 2; v++) {
    const pushed = await api(server, {
      url: `/api/v1/models/payments/versions?lineage=${encodeURIComponent(JSON.stringify({ datasetVersion: 'ds-1' }))}`,
      body: MLP,
    });
    assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  }
  const created = await api(server, {
    url: '/api/v1/deployments',
    body: { name: 'payments', model: 'payments', routes: [{ version: 1, weight: 100 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return { server, source, store };
}

function suite(engine: 'sqlite' | 'postgres'): void {
  describe(`drift API on ${engine}`, () => {
    test('settings are validated and named by path; no rows is no-data; a shifted window drifts', async (t) => {
      const { server, source } = await setUp(t, engine);
      const url = '/api/v1/deployments/payments/drift';

      const bad = await api(server, {
        method: 'PUT',
        url: `${url}/config`,
        body: { columns: { amount: { test: 'kolmogorov' } }, driftShare: 2 },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error as string, /columns\.amount\.test/);
      assert.match(bad.json.error as string, /driftShare/);
      const defaults = await api(server, { url: `${url}/config` });
      assert.equal(defaults.json.driftShare, 0.5, 'a rejected config leaves the defaults');

      const set = await api(server, {
        method: 'PUT',
        url: `${url}/config`,
        body: { window: { kind: 'count', rows: 500 }, driftShare: 0.5 },
      });
      assert.equal(set.status, 200, JSON.stringify(set.json));
      assert.deepEqual(set.json.window, { kind: 'count', rows: 500 });

      const missing = await api(server, { url });
      assert.equal(missing.status, 404);
      assert.match(missing.json.error as string, /no drift report/);

      const empty = await api(server, { url, body: {} });
      assert.equal(empty.status, 200, JSON.stringify(empty.json));
      assert.equal(empty.json.status, 'no-data');
      assert.equal(empty.json.window.rows, 0);
      assert.deepEqual(empty.json.columns, []);
      assert.equal(empty.json.datasetDrift, false);

      for (const row of rows(800, { seed: 2, shift: 30 })) {
        source.record({ deployment: 'payments', version: '1', row });
      }
      source.record({ deployment: 'payments', version: '2', row: { amount: 1, channel: 'web' } });
      const computed = await api(server, { url, body: {} });
      assert.equal(computed.status, 200, JSON.stringify(computed.json));
      const report = computed.json;
      assert.equal(report.status, 'ok');
      assert.equal(report.model, 'payments');
      assert.equal(report.version, 1);
      assert.equal(report.window.kind, 'count');
      assert.equal(report.window.rows, 500, 'the newest 500 rows of version 1');
      assert.equal(report.reference.rows, 3000);
      const amount = report.columns.find((c: { name: string }) => c.name === 'amount');
      assert.equal(amount.test, 'wasserstein', 'a 3000-row reference is large');
      assert.equal(amount.drifted, true);
      assert.ok(amount.histogram.edges.length > 2);
      const channel = report.columns.find((c: { name: string }) => c.name === 'channel');
      assert.equal(channel.test, 'jensenshannon');
      assert.equal(channel.drifted, false);
      assert.equal(report.driftShare, 0.5);
      assert.equal(report.datasetDrift, true);
      assert.equal(report.driftShareThreshold, 0.5);

      const latest = await api(server, { url });
      assert.deepEqual(latest.json, report);
      assert.equal((await api(server, { url: `${url}?window=1h` })).status, 404);
      assert.equal((await api(server, { url: `${url}?window=500` })).status, 200);
      const badWindow = await api(server, { url: `${url}?window=soon` });
      assert.equal(badWindow.status, 400);
      assert.match(badWindow.json.error as string, /window/);

      const metrics = await server.http.inject({ url: '/metrics' });
      assert.match(metrics.body, /stratum_drift_share\{deployment="payments",model="payments",version="1"\} 0\.5/);
      assert.match(
        metrics.body,
        /stratum_drift_column_drifted\{deployment="payments",model="payments",version="1",column="amount",test="wasserstein"\} 1/,
      );
    });

    test('a recorded reference sample is used with the exact tests', async (t) => {
      const { server, source, store } = await setUp(t, engine);
      const reference = rows(400, { seed: 3, shift: 0 });
      await store.recordReferenceSample({ model: 'payments', version: 2, sample: { rows: reference } });
      const current = rows(300, { seed: 4, shift: 5 });
      for (const row of current) source.record({ deployment: 'payments', version: '2', row });
      const computed = await api(server, { url: '/api/v1/deployments/payments/drift', body: { version: 2 } });
      assert.equal(computed.status, 200, JSON.stringify(computed.json));
      assert.equal(computed.json.reference.rows, 400);
      const amount = computed.json.columns.find((c: { name: string }) => c.name === 'amount');
      assert.equal(amount.test, 'ks');
      const sorted = (list: typeof reference) => Float64Array.from(list.map((r) => r.amount)).sort();
      const expected = ksTwoSample(sorted(reference), sorted(current));
      assert.equal(amount.statistic, expected.statistic);
      assert.equal(amount.pValue, expected.pValue);
      assert.equal(computed.json.columns.find((c: { name: string }) => c.name === 'channel').test, 'chisquare');

      // A time window leaves out what is older than it.
      const old = new Date(Date.now() - 2 * 3_600_000);
      for (let i = 0; i < 5; i++) {
        source.record({ deployment: 'payments', version: '2', row: { amount: 1e6, channel: 'web' }, at: old });
      }
      const timed = await api(server, {
        url: '/api/v1/deployments/payments/drift',
        body: { version: 2, window: '1h' },
      });
      assert.equal(timed.status, 200, JSON.stringify(timed.json));
      assert.equal(timed.json.window.kind, 'time');
      assert.equal(timed.json.window.rows, 300);
      assert.equal(Date.parse(timed.json.window.to) - Date.parse(timed.json.window.from), 3_600_000);
      const served = await api(server, { url: '/api/v1/deployments/payments/drift?version=2&window=1h' });
      assert.deepEqual(served.json, timed.json);
    });
  });
}

suite('sqlite');
suite('postgres');
