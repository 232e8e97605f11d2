/**
 * The embedded single-process setup runs every kind: `stratum serve` on SQLite with its in-process
 * worker at the default concurrency (one job at a time) takes a search submitted through the API
 * and finishes it — the coordinator runs on a consumer of its own, so its trials get the slot.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { tuneSpecInput, writeTuneCsv } from './tune/tune-data.ts';

test('stratum serve alone runs a tune job submitted through the API to the end, one job slot', async (t) => {
  const server = await startRegistryServer(t);
  const dataPath = writeTuneCsv(server.dir, 300);
  const spec = tuneSpecInput(dataPath, {
    trials: 2,
    scheduler: 'none',
    register: { model: 'served-tune', alias: 'best' },
  });
  const submitted = await api(server, {
    url: '/api/v1/jobs',
    body: { kind: 'tune', payload: { spec, baseDir: server.dir } },
  });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id = submitted.json.id as string;
  const finished = await waitFor('the tune job to finish', async () => {
    const reply = await api(server, { url: `/api/v1/jobs/${id}` });
    return ['completed', 'failed', 'cancelled'].includes(reply.json.state as string) ? reply.json : undefined;
  });
  assert.equal(finished.state, 'completed', JSON.stringify(finished.error));
  assert.equal(finished.result.trials, 2);
  assert.equal(finished.result.status, 'succeeded');
  // The trials ran as child jobs on the same process.
  const trials = await api(server, { url: `/api/v1/jobs?parent=${id}` });
  const items = trials.json.items as { kind: string; state: string }[];
  assert.equal(items.length, 2);
  assert.ok(
    items.every((item) => item.kind === 'trial' && item.state === 'completed'),
    JSON.stringify(items),
  );
  const alias = await api(server, { url: '/api/v1/models/served-tune/aliases/best' });
  assert.equal(alias.status, 200, JSON.stringify(alias.json));
});
