/**
 * Queue metrics on the embedded engine: depth by state read at scrape time, and the wait and
 * duration histograms fed by a worker's observer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { registerQueueMetrics } from '../../src/queue/queue-metrics.ts';
import { waitForJob } from './job-queue-conformance.ts';

test('queue metrics: stratum_jobs by state, wait and duration histograms by kind', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'stratum-jobs-metrics-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl: `sqlite:${join(folder, 'm.db')}`, pollMs: 50 });
  t.after(() => queue.close());
  const registry = new Registry();
  const observer = registerQueueMetrics({ registry, queue });

  await queue.submit({ kind: 'train', payload: null });
  const last = await queue.submit({ kind: 'train', payload: null, priority: 3 });
  await queue.submit({ kind: 'train', payload: null, delayMs: 3_600_000 });
  let text = await registry.metrics();
  assert.match(text, /stratum_jobs\{state="waiting"\} 1/);
  assert.match(text, /stratum_jobs\{state="prioritized"\} 1/);
  assert.match(text, /stratum_jobs\{state="delayed"\} 1/);
  assert.match(text, /stratum_jobs\{state="completed"\} 0/);

  const worker = queue.work({ handler: async () => 'ok', observer });
  t.after(() => worker.close());
  const job = await queue.submit({ kind: 'evaluate', payload: null });
  await waitForJob(queue, job.id, (record) => record.state === 'completed');
  // The prioritized job runs after every job without a priority, `job` included.
  await waitForJob(queue, last.id, (record) => record.state === 'completed');
  text = await registry.metrics();
  assert.match(text, /stratum_jobs\{state="completed"\} 3/);
  assert.match(text, /stratum_job_wait_seconds_count\{kind="evaluate"\} 1/);
  assert.match(text, /stratum_job_duration_seconds_count\{kind="evaluate",outcome="completed"\} 1/);
  assert.match(text, /stratum_job_duration_seconds_count\{kind="train",outcome="completed"\} 2/);
});
