/**
 * The job queue conformance suite on the embedded engine (a real SQLite file in a temp folder),
 * plus what only the embedded engine does: refusing PostgreSQL, and events across processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { jobQueueConformance, waitForJob } from './job-queue-conformance.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-jobs-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const databaseUrl = `sqlite:${join(folder, 'stratum.db')}`;

jobQueueConformance('sqlite', async (name) => {
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name, pollMs: 50 });
  return { queue, connection: { queueUrl: 'embedded', databaseUrl, name } };
});

test('sqlite: the embedded queue refuses a PostgreSQL database and names the fix', async () => {
  await assert.rejects(
    openJobQueue({ queueUrl: 'embedded', databaseUrl: 'postgres://postgres@127.0.0.1:5432/test' }),
    (error: unknown) =>
      error instanceof StratumError &&
      error.code === 'CONFIG_INVALID' &&
      error.message.includes('STRATUM_QUEUE_URL=redis://'),
  );
});

test('sqlite: a second process on the same file sees jobs and events by polling', async (t) => {
  const name = `xproc-${process.pid}`;
  const submitter = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name, pollMs: 50 });
  t.after(() => submitter.close());
  // A second queue object has its own origin and no in-process link: it stands in for another process.
  const consumer = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name, pollMs: 50 });
  t.after(() => consumer.close());
  const seen: string[] = [];
  t.after(submitter.onEvent((event) => seen.push(event.type)));
  const worker = consumer.work({ handler: async () => 'done' });
  t.after(() => worker.close());
  const job = await submitter.submit({ kind: 'noop', payload: null });
  const completed = await waitForJob(submitter, job.id, (record) => record.state === 'completed');
  assert.equal(completed.result, 'done');
  await waitForJob(submitter, job.id, () => seen.includes('completed'));
  assert.ok(seen.includes('active'));
});
