/**
 * Tracked runs over the management API (in-process requests, real stores), once per metadata store
 * engine: create, log metrics, finish succeeded or failed, list; refused requests change nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { api } from '../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';

/** The run and its metrics, as JSON text. */
async function runSnapshot(server: RegistryServer, id: string): Promise<string> {
  const run = await api(server, { url: `/api/v1/runs/${id}` });
  const metrics = await api(server, { url: `/api/v1/runs/${id}/metrics` });
  return JSON.stringify([run.json, metrics.json]);
}

async function refusedWithoutChange(
  server: RegistryServer,
  request: Parameters<typeof api>[1] & { run: string },
  expected: { status: number; message: RegExp },
): Promise<void> {
  const before = await runSnapshot(server, request.run);
  const res = await api(server, request);
  assert.equal(res.status, expected.status, `${request.url}: ${JSON.stringify(res.json)}`);
  assert.match(res.json.error as string, expected.message);
  assert.equal(await runSnapshot(server, request.run), before, 'the run is unchanged');
}

function suite(engine: 'sqlite' | 'postgres'): void {
  const start = (t: TestContext) => startRegistryServer(t, { engine });

  test('a run is created, logs metrics by step and finishes; a finished run refuses writes', async (t) => {
    const server = await start(t);
    const created = await api(server, {
      url: '/api/v1/runs',
      body: { name: 'mnist-mlp', params: { lr: 0.01, epochs: 3 }, datasetVersion: 'mnist@2', codeVersion: 'deadbeef' },
      headers: { 'x-stratum-actor': 'alice' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const run = created.json;
    assert.equal(run.status, 'running');
    assert.equal(run.createdBy, 'alice');
    assert.deepEqual(run.params, { lr: 0.01, epochs: 3 });
    assert.equal(run.codeVersion, 'deadbeef');

    const logged = await api(server, {
      url: `/api/v1/runs/${run.id}/metrics`,
      body: {
        metrics: [
          { key: 'loss', step: 1, value: 0.5 },
          { key: 'loss', step: 0, value: 1.5 },
          { key: 'acc', step: 0, value: 0.3 },
        ],
      },
    });
    assert.equal(logged.status, 201, JSON.stringify(logged.json));
    const loss = await api(server, { url: `/api/v1/runs/${run.id}/metrics?key=loss` });
    assert.equal(loss.status, 200);
    assert.deepEqual(
      loss.json.items.map((m: { step: number; value: number }) => [m.step, m.value]),
      [
        [0, 1.5],
        [1, 0.5],
      ],
    );
    const all = await api(server, { url: `/api/v1/runs/${run.id}/metrics` });
    assert.deepEqual(
      all.json.items.map((m: { key: string }) => m.key),
      ['acc', 'loss', 'loss'],
    );

    await refusedWithoutChange(
      server,
      { run: run.id, url: `/api/v1/runs/${run.id}/metrics`, body: { metrics: [{ key: 'loss', step: 0, value: 9 }] } },
      { status: 409, message: /metric "loss" at step 0/ },
    );
    // 1e999 is valid JSON and parses to Infinity.
    const infinite = await server.http.inject({
      method: 'POST',
      url: `/api/v1/runs/${run.id}/metrics`,
      headers: { 'content-type': 'application/json' },
      payload: '{"metrics":[{"key":"loss","step":5,"value":1},{"key":"loss","step":6,"value":1e999}]}',
    });
    assert.equal(infinite.statusCode, 400, infinite.body);
    assert.match(infinite.json().error as string, /metrics\[1\]\.value/);

    const finished = await api(server, {
      url: `/api/v1/runs/${run.id}/finish`,
      body: {
        status: 'succeeded',
        metrics: { accuracy: 0.97 },
        artifacts: [{ name: 'model.onnx', digest: 'a'.repeat(64), size: 10 }],
      },
    });
    assert.equal(finished.status, 200, JSON.stringify(finished.json));
    assert.equal(finished.json.status, 'succeeded');
    assert.deepEqual(finished.json.metrics, { accuracy: 0.97 });
    assert.equal(typeof finished.json.finishedAt, 'number');

    await refusedWithoutChange(
      server,
      { run: run.id, url: `/api/v1/runs/${run.id}/finish`, body: { status: 'failed', error: 'late' } },
      { status: 409, message: /already finished as succeeded/ },
    );
    await refusedWithoutChange(
      server,
      { run: run.id, url: `/api/v1/runs/${run.id}/metrics`, body: { metrics: [{ key: 'loss', step: 9, value: 1 }] } },
      { status: 409, message: /already finished/ },
    );
  });

  test('a failed run is recorded with its error; lists filter and paginate; unknown runs are 404', async (t) => {
    const server = await start(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(server, { url: '/api/v1/runs', body: { name: 'sweep', params: { i } } });
      ids.push(res.json.id as string);
    }
    await api(server, { url: '/api/v1/runs', body: { name: 'other' } });
    const failed = await api(server, {
      url: `/api/v1/runs/${ids[0]}/finish`,
      body: { status: 'failed', error: 'CUDA out of memory' },
    });
    assert.equal(failed.status, 200);
    assert.equal(failed.json.status, 'failed');
    assert.equal(failed.json.error, 'CUDA out of memory');

    const page1 = await api(server, { url: '/api/v1/runs?name=sweep&limit=2' });
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.json.items.map((r: { id: string }) => r.id),
      [ids[2], ids[1]],
    );
    const page2 = await api(server, {
      url: `/api/v1/runs?name=sweep&limit=2&cursor=${encodeURIComponent(page1.json.nextCursor as string)}`,
    });
    assert.deepEqual(
      page2.json.items.map((r: { id: string }) => r.id),
      [ids[0]],
    );
    assert.equal(page2.json.nextCursor, undefined);
    const failedOnly = await api(server, { url: '/api/v1/runs?status=failed' });
    assert.deepEqual(
      failedOnly.json.items.map((r: { id: string }) => r.id),
      [ids[0]],
    );
    assert.equal((await api(server, { url: '/api/v1/runs?status=broken' })).status, 400);
    assert.equal((await api(server, { url: '/api/v1/runs', body: { name: '' } })).status, 400);
    assert.equal((await api(server, { url: '/api/v1/runs', body: { name: 'x', extra: 1 } })).status, 400);
    assert.equal(
      (await api(server, { url: `/api/v1/runs/${ids[1]}/finish`, body: { status: 'running' } })).status,
      400,
    );

    const unknown = randomUUID();
    for (const request of [
      { url: `/api/v1/runs/${unknown}` },
      { url: `/api/v1/runs/${unknown}/metrics` },
      { url: `/api/v1/runs/${unknown}/metrics`, body: { metrics: [{ key: 'loss', step: 0, value: 1 }] } },
      { url: `/api/v1/runs/${unknown}/finish`, body: { status: 'succeeded' } },
    ]) {
      const res = await api(server, request);
      assert.equal(res.status, 404, request.url);
      assert.match(res.json.error as string, new RegExp(`run "${unknown}" does not exist`));
    }
  });
}

describe('runs API on SQLite', () => suite('sqlite'));
describe('runs API on PostgreSQL', () => suite('postgres'));
