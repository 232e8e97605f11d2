/**
 * The jobs API end to end through a started server (embedded queue in a temp SQLite file, the
 * server's in-process worker running the jobs): submit (201 + Location; 400 naming the path; 413),
 * show, list by state and kind, cancel a running job, retry a failed one, and follow a job over
 * server-sent events to its final state. Every wait is for a state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobRecord } from '../../../src/queue/job-queue.ts';
import { createApiClient, type JobUpdate } from '../../../src/client/api-client.ts';
import { api } from '../../helpers/management-api.ts';
import { startRegistryServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const OVERRIDES = { shutdownGraceMs: 1000, jobs: { serveConcurrency: 2 } };

async function jobState(server: Parameters<typeof api>[0], id: string, state: string): Promise<JobRecord> {
  return waitFor(`job ${id} to be ${state}`, async () => {
    const reply = await api(server, { url: `/api/v1/jobs/${id}` });
    return reply.json.state === state ? (reply.json as JobRecord) : undefined;
  });
}

test('submit, show, list, cancel and retry jobs over /api/v1/jobs', async (t) => {
  const server = await startRegistryServer(t, { overrides: OVERRIDES });
  const created = await api(server, {
    url: '/api/v1/jobs',
    body: { kind: 'noop', payload: { progressSteps: 2 } },
    headers: { 'x-stratum-actor': 'tester' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.headers['location'], `/api/v1/jobs/${created.json.id}`);
  assert.equal(created.json.by, 'tester');
  const done = await jobState(server, created.json.id, 'completed');
  assert.deepEqual(done.result, { ok: true, attempt: 1 });
  assert.equal(done.progress?.fraction, 1);

  const bad = await api(server, { url: '/api/v1/jobs', body: { kind: 'noop', payload: { sleepMs: 'long' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 'BAD_REQUEST');
  assert.match(bad.json.error, /payload\.sleepMs: /);
  const unknown = await api(server, { url: '/api/v1/jobs', body: { kind: 'tune-me', payload: {} } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.json.error, /kind: unknown job kind "tune-me"/);
  const huge = await api(server, {
    url: '/api/v1/jobs',
    body: { kind: 'batch-infer', payload: { rows: 'x'.repeat(1024 * 1024 + 1) } },
  });
  assert.equal(huge.status, 413);
  assert.equal(huge.json.code, 'BODY_TOO_LARGE');

  // A long job is cancelled while it runs; a finished one cannot be.
  const long = await api(server, { url: '/api/v1/jobs', body: { kind: 'noop', payload: { sleepMs: 600_000 } } });
  await jobState(server, long.json.id, 'active');
  const cancelling = await api(server, { method: 'POST', url: `/api/v1/jobs/${long.json.id}/cancel` });
  assert.equal(cancelling.status, 200);
  await jobState(server, long.json.id, 'cancelled');
  const again = await api(server, { method: 'POST', url: `/api/v1/jobs/${long.json.id}/cancel` });
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'JOB_FINISHED');

  // A job failing every attempt ends failed with its error kept; retry runs it again.
  const failing = await api(server, {
    url: '/api/v1/jobs',
    body: { kind: 'noop', payload: { fail: true }, attempts: 1 },
  });
  const failed = await jobState(server, failing.json.id, 'failed');
  assert.match(failed.error?.message ?? '', /failed as asked/);
  const retried = await api(server, { method: 'POST', url: `/api/v1/jobs/${failing.json.id}/retry` });
  assert.equal(retried.status, 200);
  assert.equal(retried.json.attemptsMade, 0);
  await jobState(server, failing.json.id, 'failed');

  const listed = await api(server, { url: '/api/v1/jobs?state=failed&kind=noop' });
  assert.deepEqual(
    listed.json.items.map((j: JobRecord) => j.id),
    [failing.json.id],
  );
  const all = await api(server, { url: '/api/v1/jobs?limit=2' });
  assert.equal(all.json.items.length, 2);
  assert.ok(all.json.nextCursor !== undefined);
  const badFilter = await api(server, { url: '/api/v1/jobs?state=done' });
  assert.equal(badFilter.status, 400);
  const missing = await api(server, { url: '/api/v1/jobs/no-such-job' });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'JOB_NOT_FOUND');
});

test('GET /api/v1/jobs/:id/events streams the state first, then progress, until the job finishes', async (t) => {
  const server = await startRegistryServer(t, { overrides: { ...OVERRIDES, jobs: { serveConcurrency: 0 } } });
  const client = createApiClient({ baseUrl: server.httpUrl });
  // No worker runs yet: the stream starts with the job waiting, and follows it through a worker.
  const job = await client.submitJob({ kind: 'noop', payload: { progressSteps: 3 } });
  const updates: JobUpdate[] = [];
  const following = client.followJob(job.id, (update) => updates.push(update));
  await waitFor('the first state', () => updates.length > 0);
  assert.deepEqual(updates[0], { type: 'state', record: { ...job, state: 'waiting' } });
  const worker = server.queue?.work({
    handler: async (active) => {
      for (let step = 1; step <= 3; step++) await active.progress({ fraction: step / 3, message: `step ${step}` });
      return 'done';
    },
  });
  t.after(() => worker?.close());
  const finished = await following;
  assert.equal(finished.state, 'completed');
  assert.equal(finished.result, 'done');
  const progress = updates.flatMap((u) => (u.type === 'event' && u.event.type === 'progress' ? [u.event] : []));
  assert.deepEqual(
    progress.map((e) => e.progress.message),
    ['step 1', 'step 2', 'step 3'],
  );
  const last = updates.at(-1);
  assert.equal(last?.type === 'state' && last.record.state, 'completed');

  // A finished job's stream is its final state alone.
  const raw = await fetch(`${server.httpUrl}/api/v1/jobs/${job.id}/events`);
  assert.equal(raw.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await raw.text();
  assert.match(text, /^event: state\ndata: \{.*"state":"completed".*\}\n\n$/);
  const gone = await fetch(`${server.httpUrl}/api/v1/jobs/nope/events`);
  assert.equal(gone.status, 404);
});
