/**
 * Tuning experiments over the management API (in-process requests, real stores), once per
 * metadata store engine: the list (newest first, by status) and one experiment with its trials and
 * rung results; an unknown id is a 404 naming it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';

function suite(engine: 'sqlite' | 'postgres'): void {
  test(`experiments are listed and shown with their trials (${engine})`, async (t: TestContext) => {
    const server = await startRegistryServer(t, { engine });
    const store = await openMetadataStore({ url: server.databaseUrl, pollMs: 50 });
    t.after(() => store.close());
    const [first, second] = [randomUUID(), randomUUID()];
    await store.createExperiment({
      id: first,
      name: 'tune-a',
      spec: { trials: 2 },
      metric: 'rmse',
      mode: 'min',
      by: 'alice',
    });
    await store.createExperiment({ id: second, name: 'tune-b', spec: {}, metric: 'accuracy', mode: 'max', by: 'bob' });
    await store.addTrial({ experiment: first, number: 0, params: { 'model.params.maxDepth': 3 } });
    await store.updateTrial({ experiment: first, number: 0, status: 'stopped', runId: 'r0', resource: 2, value: 0.5 });
    await store.addTrial({ experiment: first, number: 1, params: { 'model.params.maxDepth': 5 } });
    await store.recordRung({ experiment: first, rung: 2, trial: 0, value: 0.7 });
    await store.finishExperiment({ id: second, status: 'succeeded', bestTrial: 0, bestValue: 0.9 });

    const list = await api(server, { url: '/api/v1/experiments' });
    assert.equal(list.status, 200, JSON.stringify(list.json));
    assert.deepEqual(
      list.json.items.map((e: { id: string }) => e.id),
      [second, first],
    );
    const running = await api(server, { url: '/api/v1/experiments?status=running' });
    assert.deepEqual(
      running.json.items.map((e: { id: string }) => e.id),
      [first],
    );
    const paged = await api(server, { url: '/api/v1/experiments?limit=1' });
    assert.equal(paged.json.items.length, 1);
    assert.ok(typeof paged.json.nextCursor === 'string');

    const shown = await api(server, { url: `/api/v1/experiments/${first}` });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.name, 'tune-a');
    assert.equal(shown.json.mode, 'min');
    assert.deepEqual(
      shown.json.trials.map((tr: { number: number; status: string }) => [tr.number, tr.status]),
      [
        [0, 'stopped'],
        [1, 'running'],
      ],
    );
    assert.equal(shown.json.trials[0].value, 0.5);
    assert.deepEqual(shown.json.rungs, [{ rung: 2, trial: 0, value: 0.7 }]);

    const missing = await api(server, { url: `/api/v1/experiments/${randomUUID()}` });
    assert.equal(missing.status, 404);
    assert.match(missing.json.error as string, /experiment/);
    const bad = await api(server, { url: '/api/v1/experiments?status=done' });
    assert.equal(bad.status, 400);
  });
}

suite('sqlite');
suite('postgres');
