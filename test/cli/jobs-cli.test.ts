/**
 * `stratum train --queue [--wait]` and `stratum jobs list|show|cancel|retry` as real child
 * processes against a running server (embedded queue, its in-process worker running the jobs).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import type { JobRecord } from '../../src/queue/job-queue.ts';
import { createApiClient } from '../../src/client/api-client.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { writeTrainingData } from '../jobs/train-fixture.ts';

test('train --queue --wait runs the spec as a job and prints the inline summary; --queue alone prints the id', async (t) => {
  const server = await startRegistryServer(t, { overrides: { shutdownGraceMs: 1000 } });
  const spec = await writeTrainingData(server.dir, { name: 'queued-reviews', numTrees: 10 });
  // Relative data paths resolve against the submitter's working directory, as inline.
  const specPath = join(server.dir, 'train.yaml');
  await writeFile(
    specPath,
    stringify({ ...spec, data: { ...spec.data, source: { format: 'jsonl', path: join(server.dir, 'rows.jsonl') } } }),
  );
  const waited = await runCli(['train', specPath, '--queue', '--wait', '--url', server.httpUrl]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stderr, /submitted train job \S+/);
  assert.match(waited.stdout, /^status\s+succeeded$/m);
  assert.match(waited.stdout, /^registered\s+queued-reviews version 1$/m);
  assert.match(waited.stdout, /^accuracy\s+0\.\d{4} \(baseline 0\.\d{4}\)$/m);

  const submitted = await runCli(['train', specPath, '--queue', '--url', server.httpUrl]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  const client = createApiClient({ baseUrl: server.httpUrl });
  const done = await client.followJob(id);
  assert.equal(done.state, 'completed');
  assert.equal((done.result as { version: { version: number } }).version.version, 2);

  const bad = await runCli(['train', specPath, '--wait', '--url', server.httpUrl]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--wait goes with --queue/);
});

test('train --queue --wait exits 1 naming the error when the job fails', async (t) => {
  const server = await startRegistryServer(t, { overrides: { shutdownGraceMs: 1000 } });
  const spec = await writeTrainingData(server.dir, { name: 'queued-missing', numTrees: 3 });
  const specPath = join(server.dir, 'train.json');
  await writeFile(
    specPath,
    JSON.stringify({ ...spec, data: { ...spec.data, source: { format: 'jsonl', path: '/nonexistent/rows.jsonl' } } }),
  );
  const failed = await runCli(['train', specPath, '--queue', '--wait', '--url', server.httpUrl]);
  assert.equal(failed.code, 1, failed.stdout);
  assert.match(failed.stderr, /job \S+ failed: \w+: .*nonexistent/);
});

test('jobs list, show, cancel and retry, as text and --json', async (t) => {
  const server = await startRegistryServer(t, { overrides: { shutdownGraceMs: 1000 } });
  const client = createApiClient({ baseUrl: server.httpUrl });
  const url = ['--url', server.httpUrl];
  const quick = await client.submitJob({ kind: 'noop', payload: {} });
  await client.followJob(quick.id);
  const long = await client.submitJob({ kind: 'noop', payload: { sleepMs: 600_000 } });
  await waitFor('the long job to run', async () => (await client.getJob(long.id)).state === 'active');

  const listed = await runCli(['jobs', 'list', ...url]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^${quick.id}\\s+noop\\s+completed\\s+1/3`, 'm'));
  assert.match(listed.stdout, new RegExp(`^${long.id}\\s+noop\\s+active`, 'm'));
  const json = await runCli(['jobs', 'list', '--state', 'completed', '--json', ...url]);
  assert.deepEqual(
    (JSON.parse(json.stdout) as { items: JobRecord[] }).items.map((j) => j.id),
    [quick.id],
  );

  const shown = await runCli(['jobs', 'show', quick.id, ...url]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^ {2}state\s+completed$/m);
  assert.match(shown.stdout, /^ {2}result\s+\{"ok":true,"attempt":1\}$/m);

  const cancelled = await runCli(['jobs', 'cancel', long.id, '--json', ...url]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal((JSON.parse(cancelled.stdout) as JobRecord).id, long.id);
  const finished = await client.followJob(long.id);
  assert.equal(finished.state, 'cancelled');
  const twice = await runCli(['jobs', 'cancel', long.id, ...url]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /is cancelled and cannot be cancelled/);

  const retried = await runCli(['jobs', 'retry', long.id, ...url]);
  assert.equal(retried.code, 0, retried.stderr);
  assert.match(retried.stdout, new RegExp(`job ${long.id} is (waiting|active) again`));
  await client.cancelJob(long.id);
  const missing = await runCli(['jobs', 'show', 'no-such-job', ...url]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-job/);
});
