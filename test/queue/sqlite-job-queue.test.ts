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
import { JOB_COLUMNS, type JobRow, toJobRecord } from '../../src/queue/job-rows.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { openSqliteDriver } from '../../src/store/sqlite-driver.ts';
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

test('sqlite: payloads live in job_payloads, written once; a record parses its payload only when read', async (t) => {
  const name = `payloads-${process.pid}`;
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name, pollMs: 50 });
  t.after(() => queue.close());
  const payload = { binary: { body: 'A'.repeat(50_000), headerLength: 12 }, model: 'm' };
  const job = await queue.submit({ kind: 'noop', payload });
  const worker = queue.work({ handler: async (active) => (active.record.payload as { model: string }).model });
  t.after(() => worker.close());
  const completed = await waitForJob(queue, job.id, (record) => record.state === 'completed');
  assert.equal(completed.result, 'm');
  assert.deepEqual(completed.payload, payload);
  assert.deepEqual(job.payload, payload);

  const driver = openSqliteDriver({ path: join(folder, 'stratum.db') });
  t.after(() => driver.close());
  const columns = await driver.query<{ name: string }>("SELECT name FROM pragma_table_info('jobs')");
  assert.equal(
    columns.some((c) => c.name === 'payload'),
    false,
    'the row that changes at every step holds no payload',
  );
  const stored = await driver.query<{ payload: string }>('SELECT payload FROM job_payloads WHERE id = ?', [job.id]);
  assert.deepEqual(JSON.parse(stored[0]?.payload ?? 'null'), payload);

  // A record whose payload is never read never parses it: a broken payload fails only on access.
  const row = await driver.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`, [job.id]);
  const record = toJobRecord({ ...(row[0] as JobRow), payload: '{not json' });
  assert.equal(record.state, 'completed');
  assert.throws(() => record.payload, SyntaxError);
});
