/**
 * The embedded engine's reads and writes on the `jobs` table: submission, the caller's operations
 * (get, list, cancel, retry, counts) and the events each write records. The worker's side (claim,
 * renew, finish) is in `sql-job-claims.ts`. Every write is one transaction that records its events
 * and delivers them to this process's listeners after the commit.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../errors/index.ts';
import type { Page } from '../store/metadata-store.ts';
import { pageRequest } from '../store/page-cursor.ts';
import { selectPage } from '../store/select-page.ts';
import type { SqlDriver, SqlExecutor } from '../store/sql-driver.ts';
import type { NormalisedJob } from './job-options.ts';
import type { JobCounts, JobEvent, JobListOptions, JobRecord } from './job-queue.ts';
import { JOB_COLUMNS, JOB_COLUMNS_BUT_PAYLOAD, type JobRow, toJobRecord } from './job-rows.ts';
import { type JobEventHub, nextJobSeq } from './sql-job-events.ts';

/** What the queue and its workers share. */
export interface SqlJobContext {
  readonly driver: SqlDriver;
  readonly queue: string;
  readonly hub: JobEventHub;
}

/** Runs `fn` in a write transaction; the events it returns are recorded with it and delivered after. */
export async function writeJobs<T>(
  context: SqlJobContext,
  fn: (tx: SqlExecutor, events: JobEvent[]) => Promise<T>,
): Promise<T> {
  const events: JobEvent[] = [];
  const result = await context.driver.transaction(async (tx) => {
    events.length = 0;
    const value = await fn(tx, events);
    await context.hub.record(tx, events);
    return value;
  });
  context.hub.deliver(events);
  return result;
}

/** One job row, or undefined. */
export async function selectJob(executor: SqlExecutor, queue: string, id: string): Promise<JobRow | undefined> {
  const rows = await executor.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE queue = ? AND id = ?`, [queue, id]);
  return rows[0];
}

/** One job row, or JOB_NOT_FOUND. */
export async function requireJob(executor: SqlExecutor, queue: string, id: string): Promise<JobRow> {
  const row = await selectJob(executor, queue, id);
  if (row === undefined) throw new StratumError('JOB_NOT_FOUND', `no job with id "${id}"`, { details: { id } });
  return row;
}

/** Queues a job, or returns the one holding its idempotency key. */
export function insertJob(context: SqlJobContext, job: NormalisedJob): Promise<JobRecord> {
  const { queue } = context;
  return writeJobs(context, async (tx, events) => {
    if (job.idempotencyKey !== undefined) {
      const rows = await tx.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE queue = ? AND idempotency_key = ?`, [
        queue,
        job.idempotencyKey,
      ]);
      if (rows[0] !== undefined) return toJobRecord(rows[0]);
    }
    const id = randomUUID();
    const now = Date.now();
    const seq = await nextJobSeq(tx, 1);
    await tx.execute(
      'INSERT INTO jobs (id, queue, seq, kind, state, priority, urgency, attempts_made, max_attempts, ' +
        'backoff, timeout_ms, run_at, idempotency_key, parent_id, created_by, created_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        queue,
        seq,
        job.kind,
        job.delayMs > 0 ? 'delayed' : 'waiting',
        job.priority ?? null,
        job.priority ?? 0,
        job.maxAttempts,
        JSON.stringify(job.backoff),
        job.timeoutMs ?? null,
        now + job.delayMs,
        job.idempotencyKey ?? null,
        job.parentId ?? null,
        job.by,
        now,
      ],
    );
    await tx.execute('INSERT INTO job_payloads (id, payload) VALUES (?, ?)', [id, job.payloadJson]);
    events.push({ type: 'added', jobId: id, kind: job.kind });
    // The payload is the text just written: not read back (it can be large).
    const rows = await tx.query<Omit<JobRow, 'payload'>>(
      `SELECT ${JOB_COLUMNS_BUT_PAYLOAD} FROM jobs WHERE queue = ? AND id = ?`,
      [queue, id],
    );
    return toJobRecord({ ...(rows[0] as Omit<JobRow, 'payload'>), payload: job.payloadJson });
  });
}

/** A page of jobs, newest first. */
export function listJobs(context: SqlJobContext, options: JobListOptions = {}): Promise<Page<JobRecord>> {
  return selectPage<JobRow, JobRecord>(context.driver, {
    columns: JOB_COLUMNS,
    from: 'jobs',
    filters: [
      { sql: 'queue = ?', value: context.queue },
      { sql: 'state = ?', value: options.state },
      { sql: 'kind = ?', value: options.kind },
      { sql: 'parent_id = ?', value: options.parentId },
    ],
    orderBy: { column: 'seq', descending: true, key: (row) => row.seq },
    page: pageRequest(options, 'number'),
    map: toJobRecord,
  });
}

/** Jobs by state. */
export async function countJobs(context: SqlJobContext): Promise<JobCounts> {
  const rows = await context.driver.query<{ state: string; prioritized: number; n: number }>(
    'SELECT state, CASE WHEN priority IS NULL THEN 0 ELSE 1 END AS prioritized, COUNT(*) AS n FROM jobs ' +
      'WHERE queue = ? GROUP BY state, CASE WHEN priority IS NULL THEN 0 ELSE 1 END',
    [context.queue],
  );
  const counts = { waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.state === 'waiting' && Number(row.prioritized) === 1) counts.prioritized += n;
    else if (row.state in counts) counts[row.state as keyof typeof counts] += n;
  }
  return counts;
}

/**
 * Cancels a job: waiting or delayed at once; active by setting `cancel_requested`, which the
 * worker holding it sees on its next lock renewal (or at once when it runs in this process).
 */
export function cancelJob(context: SqlJobContext, id: string): Promise<JobRecord> {
  const { queue } = context;
  return writeJobs(context, async (tx, events) => {
    const row = await requireJob(tx, queue, id);
    if (row.state === 'completed' || row.state === 'failed' || row.state === 'cancelled') {
      throw new StratumError('JOB_FINISHED', `job ${id} is ${row.state} and cannot be cancelled`, {
        details: { id, state: row.state },
      });
    }
    if (row.state === 'active') {
      await tx.execute('UPDATE jobs SET cancel_requested = 1 WHERE id = ?', [id]);
    } else {
      await tx.execute("UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ?", [Date.now(), id]);
      events.push({ type: 'cancelled', jobId: id });
    }
    return toJobRecord(await requireJob(tx, queue, id));
  });
}

/** Puts a failed or cancelled job back to `waiting` with its attempts reset. */
export function retryJob(context: SqlJobContext, id: string): Promise<JobRecord> {
  const { queue } = context;
  return writeJobs(context, async (tx, events) => {
    const row = await requireJob(tx, queue, id);
    if (row.state !== 'failed' && row.state !== 'cancelled') {
      throw new StratumError('JOB_FINISHED', `job ${id} is ${row.state}; only failed or cancelled jobs are retried`, {
        details: { id, state: row.state },
      });
    }
    await tx.execute(
      "UPDATE jobs SET state = 'waiting', attempts_made = 0, cancel_requested = 0, error = NULL, result = NULL, " +
        'progress = NULL, finished_at = NULL, run_at = ?, worker_id = NULL, lock_token = NULL, lock_expires_at = NULL ' +
        'WHERE id = ?',
      [Date.now(), id],
    );
    events.push({ type: 'added', jobId: id, kind: row.kind });
    return toJobRecord(await requireJob(tx, queue, id));
  });
}
