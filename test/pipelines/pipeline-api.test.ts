// Pipelines through the real server and the compiled CLI: specs refused with the path of the bad
// field, stored and listed with their next scheduled run; runs started by hand (one at a time),
// cancelled, and started once per schedule slot however many replicas see the slot.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createLogger } from '../../src/logging/logger.ts';
import { createPipelineService } from '../../src/pipelines/pipeline-service.ts';
import { startPipelineScheduler } from '../../src/pipelines/pipeline-scheduler.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { api } from '../helpers/management-api.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API replies as JSON, read field by field
type Json = Record<string, any>;

const TRAIN = {
  name: 'churn-train',
  data: { source: { format: 'csv', path: 'data.csv' }, label: 'label' },
  features: { transforms: [{ column: 'x1', transform: 'standardize' }] },
  model: { kind: 'linear', objective: 'binary' },
  register: { model: 'churn' },
};

function spec(dir: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'churn-retrain',
    train: TRAIN,
    evaluate: { data: { source: { format: 'csv', path: 'holdout.csv' }, label: 'label' }, metric: 'roc_auc' },
    baseDir: dir,
    ...extra,
  };
}

/** A server whose queue has no worker: runs stay queued, so what the API says of them holds still. */
async function quietServer(t: TestContext) {
  return startRegistryServer(t, { overrides: { jobs: { serveConcurrency: 0 }, pipelines: { scheduler: false } } });
}

test('specs are checked at the route, stored, listed with their schedule, and deleted', async (t) => {
  const server = await quietServer(t);
  const url = '/api/v1/pipelines/churn-retrain';
  const bad = await api(server, {
    method: 'PUT',
    url,
    body: spec(server.dir, { schedule: 'nightly', evaluate: { metric: 'auc' } }),
  });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error as string, /schedule: not a cron expression/);
  assert.match(bad.json.error as string, /evaluate\.data/);
  assert.equal((await api(server, { url })).status, 404, 'nothing stored');

  const misnamed = await api(server, { method: 'PUT', url: '/api/v1/pipelines/other', body: spec(server.dir) });
  assert.equal(misnamed.status, 400);
  assert.match(misnamed.json.error as string, /named "churn-retrain" but was sent to "other"/);

  const created = await api(server, { method: 'PUT', url, body: spec(server.dir, { schedule: '0 3 * * *' }) });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const replaced = await api(server, { method: 'PUT', url, body: spec(server.dir, { schedule: '30 4 * * *' }) });
  assert.equal(replaced.status, 200);
  const listed = (await api(server, { url: '/api/v1/pipelines' })).json.items as Json[];
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.spec.schedule, '30 4 * * *');
  assert.match(listed[0]?.nextRunAt as string, /T04:30:00\.000Z$/);
  assert.equal(listed[0]?.lastRun, undefined);

  assert.equal((await api(server, { method: 'DELETE', url })).status, 204);
  assert.equal((await api(server, { url })).json.code, 'PIPELINE_NOT_FOUND');
  const audit = (await api(server, { url: '/api/v1/audit?action=pipeline.put' })).json.items as { outcome: string }[];
  assert.equal(audit.filter((e) => e.outcome === 'ok').length, 2, 'both writes are audited');
  assert.equal(audit.filter((e) => e.outcome === 'failed').length, 2, 'and both refusals');
});

test('one run at a time: a second start is 409 naming the run; a cancelled run frees the pipeline', async (t) => {
  const server = await quietServer(t);
  assert.equal(
    (await api(server, { method: 'PUT', url: '/api/v1/pipelines/churn-retrain', body: spec(server.dir) })).status,
    201,
  );
  const started = await api(server, { url: '/api/v1/pipelines/churn-retrain/runs', body: {} });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  assert.equal(started.json.status, 'queued');
  assert.deepEqual(started.json.trigger, { kind: 'manual' });
  const id = started.json.id as string;
  // The run is its job.
  const job = (await api(server, { url: `/api/v1/jobs/${id}` })).json;
  assert.equal(job.kind, 'pipeline');
  assert.equal(job.state, 'waiting');

  const second = await api(server, { url: '/api/v1/pipelines/churn-retrain/runs', body: {} });
  assert.equal(second.status, 409);
  assert.equal(second.json.code, 'PIPELINE_RUNNING');
  assert.match(second.json.error as string, new RegExp(`run ${id} queued`));

  const cancelled = await api(server, { url: `/api/v1/pipeline-runs/${id}/cancel`, body: {} });
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.json));
  assert.equal(cancelled.json.status, 'cancelled');
  assert.equal((await api(server, { url: `/api/v1/pipeline-runs/${id}` })).json.status, 'cancelled');
  const third = await api(server, { url: '/api/v1/pipelines/churn-retrain/runs', body: {} });
  assert.equal(third.status, 202);
  const runs = (await api(server, { url: '/api/v1/pipelines/churn-retrain/runs' })).json.items as { id: string }[];
  assert.deepEqual(
    runs.map((r) => r.id),
    [third.json.id, id],
  );
  assert.equal((await api(server, { url: '/api/v1/pipeline-runs/nope' })).json.code, 'PIPELINE_NOT_FOUND');
  assert.equal((await api(server, { url: '/api/v1/pipelines/nope/runs', body: {} })).status, 404);
});

test('a schedule slot seen by two replicas starts one run', async (t) => {
  const server = await quietServer(t);
  assert.equal(
    (
      await api(server, {
        method: 'PUT',
        url: '/api/v1/pipelines/churn-retrain',
        body: spec(server.dir, { schedule: '0 3 * * *' }),
      })
    ).status,
    201,
  );
  const store = await openMetadataStore({ url: server.databaseUrl });
  t.after(() => store.close());
  const logger = createLogger({ level: 'silent' });
  const start = Date.parse('2026-12-05T02:59:00Z');
  let now = start;
  // Two replicas: each its own service and scheduler, one store and one queue between them.
  const schedulers = [0, 1].map(() =>
    startPipelineScheduler({
      service: createPipelineService({ store, queue: server.queue, logger, now: () => now }),
      logger,
      now: () => now,
      timer: false,
    }),
  );
  t.after(() => Promise.all(schedulers.map((s) => s.close())));
  assert.deepEqual(await Promise.all(schedulers.map((s) => s.tick(start + 30_000))), [[], []], 'not yet');
  now = Date.parse('2026-12-05T03:00:01Z');
  const started = await Promise.all(schedulers.map((s) => s.tick(now)));
  assert.ok(started.flat().length >= 1);
  const runs = await store.listPipelineRuns({ pipeline: 'churn-retrain' });
  assert.equal(runs.length, 1, 'one run for the slot');
  assert.deepEqual(runs[0]?.trigger, { kind: 'schedule', slot: '2026-12-05T03:00:00.000Z' });
  assert.equal(runs[0]?.createdBy, 'scheduler');
  // The same slot seen again later starts nothing more.
  now += 5000;
  assert.deepEqual(await Promise.all(schedulers.map((s) => s.tick(now))), [[], []]);
  assert.equal((await store.listPipelineRuns({ pipeline: 'churn-retrain' })).length, 1);
});

test('the CLI applies a spec file, lists it and starts a run', async (t) => {
  const server = await quietServer(t);
  await writeFile(join(server.dir, 'train.yaml'), JSON.stringify(TRAIN));
  await writeFile(
    join(server.dir, 'retrain.yaml'),
    `name: churn-retrain
train: train.yaml
evaluate: { data: { source: { format: csv, path: holdout.csv }, label: label }, metric: roc_auc, margin: 0.01 }
deploy: { deployment: churn }
`,
  );
  const env = { STRATUM_URL: server.httpUrl };
  const applied = await runCli(['pipeline', 'apply', join(server.dir, 'retrain.yaml')], env);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /pipeline churn-retrain created/);
  const stored = (await api(server, { url: '/api/v1/pipelines/churn-retrain' })).json;
  assert.equal(stored.spec.baseDir, server.dir, 'relative paths are relative to the file');
  assert.equal(stored.spec.train.name, 'churn-train');
  const listed = await runCli(['pipeline', 'list'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /churn-retrain\s+churn/);
  const run = await runCli(['pipeline', 'run', 'churn-retrain', '--json'], env);
  assert.equal(run.code, 0, run.stderr);
  const record = JSON.parse(run.stdout) as { id: string; status: string };
  assert.equal(record.status, 'queued');
  const shown = await runCli(['pipeline', 'show', record.id], env);
  assert.match(shown.stdout, new RegExp(`run ${record.id} of churn-retrain: queued \\(manual`));
  const refused = await runCli(['pipeline', 'run', 'churn-retrain'], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /PIPELINE_RUNNING|already has run/);
  const bad = await runCli(['pipeline', 'apply', join(server.dir, 'train.yaml')], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid pipeline spec .*train\.yaml/);
});
