/**
 * `stratum worker --metrics-port`: a real worker process serves the job times it observes on
 * /metrics (the same names as a server's) and says on /healthz whether it consumes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { submitJob } from '../../src/jobs/submit-job.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { type CliProcess, startCli } from '../helpers/cli-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The metrics URL the worker logs once it listens. */
function metricsUrl(proc: CliProcess): Promise<string> {
  return waitFor('the worker to log its metrics address', () => {
    if (proc.child.exitCode !== null)
      throw new Error(`the worker exited with ${proc.child.exitCode}: ${proc.output()}`);
    const line = proc
      .output()
      .split('\n')
      .find((l) => l.includes('"serving worker metrics"'));
    return line === undefined ? undefined : (JSON.parse(line) as { metrics: string }).metrics;
  });
}

test('stratum worker --metrics-port 0 serves the noop job it ran on /metrics, and /healthz while it consumes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-worker-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const queueName = `worker-metrics-${randomUUID().slice(0, 8)}`;
  const env = {
    STRATUM_DATABASE_URL: databaseUrl,
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
    STRATUM_QUEUE_NAME: queueName,
    STRATUM_RUNTIME_WORKERS: '1',
  };
  const worker = startCli(t, ['worker', '--metrics-port', '0', '--log-level', 'info'], env);
  const url = await metricsUrl(worker);
  const health = await waitFor('the worker to be ready', async () => {
    const res = await fetch(url.replace(/\/metrics$/, '/healthz'));
    return res.status === 200 ? res.text() : undefined;
  });
  assert.equal(health, 'ok\n');

  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name: queueName });
  t.after(() => queue.close());
  await submitJob(queue, { kind: 'noop', payload: {} });
  const text = await waitFor('the noop attempt on /metrics', async () => {
    const res = await fetch(url);
    const body = await res.text();
    return /^stratum_job_duration_seconds_count\{kind="noop",outcome="completed"\} 1$/m.test(body) ? body : undefined;
  });
  assert.match(text, /^stratum_job_wait_seconds_count\{kind="noop"\} 1$/m);
  assert.match(text, /^stratum_jobs\{state="completed"\} 1$/m);
  // The process metrics, under the same prefix as a server's.
  assert.match(text, /^stratum_process_cpu_seconds_total /m);
  assert.equal((await fetch(url.replace(/\/metrics$/, '/nothing'))).status, 404);

  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.output());
});
