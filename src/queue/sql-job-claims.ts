/**
 * The worker's side of the embedded engine: claiming the most urgent jobs in one write
 * transaction, renewing locks (and reading cancel flags) while they run, recording how an attempt
 * ended, and recovering the jobs of workers whose locks expired. Every write that ends an attempt
 * checks the lock token, so a worker that lost its job to stalled recovery changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../store/sql-driver.ts';
import { backoffDelay } from './job-options.ts';
import type { Backoff, JobError, JobEvent, JobProgress, JobRecord } from './job-queue.ts';
import { JOB_COLUMNS, type JobRow, toJobRecord } from './job-rows.ts';
import { type SqlJobContext, writeJobs } from './sql-job-store.ts';

/** A job this worker holds. */
export interface ClaimedJob {
  readonly record: JobRecord;
  readonly token: string;
}

/** Options of {@link claimJobs}. */
export interface ClaimOptions {
  /** One worker id per free slot; as many jobs are claimed at most. */
  readonly workerIds: readonly string[];
  readonly kinds?: readonly string[] | undefined;
  readonly lockMs: number;
}

/** Promotes due delayed jobs, then takes up to one job per free slot, most urgent first. */
export function claimJobs(context: SqlJobContext, options: ClaimOptions): Promise<ClaimedJob[]> {
  const { queue } = context;
  const { workerIds, kinds, lockMs } = options;
  return writeJobs(context, async (tx, events) => {
    const now = Date.now();
    await tx.execute("UPDATE jobs SET state = 'waiting' WHERE queue = ? AND state = 'delayed' AND run_at <= ?", [
      queue,
      now,
    ]);
    const kindFilter = kinds === undefined ? '' : ` AND kind IN (${kinds.map(() => '?').join(', ')})`;
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM jobs WHERE queue = ? AND state = 'waiting'${kindFilter} ORDER BY urgency, seq LIMIT ?`,
      [queue, ...(kinds ?? []), workerIds.length],
    );
    const claimed: ClaimedJob[] = [];
    for (const [i, { id }] of rows.entries()) {
      const token = randomUUID();
      await tx.execute(
        "UPDATE jobs SET state = 'active', attempts_made = attempts_made + 1, worker_id = ?, lock_token = ?, " +
          'lock_expires_at = ?, started_at = ? WHERE id = ?',
        [workerIds[i] ?? null, token, now + lockMs, now, id],
      );
      const row = (await tx.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`, [id]))[0];
      if (row === undefined) continue;
      events.push({ type: 'active', jobId: id, attempt: row.attempts_made });
      claimed.push({ record: toJobRecord(row), token });
    }
    return claimed;
  });
}

/** What a lock renewal learnt about the jobs it renewed. */
export interface RenewResult {
  /** Jobs whose cancel was asked. */
  readonly cancelRequested: readonly string[];
  /** Jobs this worker no longer holds (recovered by another after its lock expired). */
  readonly lost: readonly string[];
}

/** Extends the locks of the jobs a worker holds and reads their cancel flags. */
export async function renewLocks(
  context: SqlJobContext,
  held: ReadonlyMap<string, string>,
  lockMs: number,
): Promise<RenewResult> {
  if (held.size === 0) return { cancelRequested: [], lost: [] };
  return context.driver.transaction(async (tx) => {
    const cancelRequested: string[] = [];
    const lost: string[] = [];
    const expires = Date.now() + lockMs;
    for (const [id, token] of held) {
      const { changes } = await tx.execute(
        "UPDATE jobs SET lock_expires_at = ? WHERE id = ? AND lock_token = ? AND state = 'active'",
        [expires, id, token],
      );
      if (changes === 0) lost.push(id);
    }
    const ids = [...held.keys()];
    const flagged = await tx.query<{ id: string }>(
      `SELECT id FROM jobs WHERE cancel_requested = 1 AND id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    for (const { id } of flagged) cancelRequested.push(id);
    return { cancelRequested, lost };
  });
}

/** How an attempt ended, as the worker reports it. */
export type AttemptEnd =
  | { readonly type: 'completed'; readonly result: unknown }
  | { readonly type: 'failed'; readonly error: JobError; readonly retryable: boolean }
  | { readonly type: 'cancelled' }
  /** The worker shut down before the handler finished: back to `waiting`, the attempt not counted. */
  | { readonly type: 'released' };

/** The state an attempt's end left the job in, or undefined when the lock had been lost. */
export type EndedState = 'completed' | 'failed' | 'delayed' | 'cancelled' | 'waiting';

/** Records the end of an attempt, if this worker still holds the job. */
export function endAttempt(
  context: SqlJobContext,
  claim: ClaimedJob,
  end: AttemptEnd,
): Promise<EndedState | undefined> {
  return writeJobs(context, async (tx, events) => {
    const id = claim.record.id;
    const rows = await tx.query<Pick<JobRow, 'cancel_requested' | 'attempts_made' | 'max_attempts' | 'backoff'>>(
      "SELECT cancel_requested, attempts_made, max_attempts, backoff FROM jobs WHERE id = ? AND lock_token = ? AND state = 'active'",
      [id, claim.token],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const now = Date.now();
    const unlock = 'worker_id = NULL, lock_token = NULL, lock_expires_at = NULL';
    if (end.type === 'released') {
      await tx.execute(`UPDATE jobs SET state = 'waiting', attempts_made = attempts_made - 1, ${unlock} WHERE id = ?`, [
        id,
      ]);
      return 'waiting';
    }
    if (end.type === 'cancelled' || row.cancel_requested !== 0) {
      await tx.execute(`UPDATE jobs SET state = 'cancelled', finished_at = ?, ${unlock} WHERE id = ?`, [now, id]);
      events.push({ type: 'cancelled', jobId: id });
      return 'cancelled';
    }
    if (end.type === 'completed') {
      await tx.execute(`UPDATE jobs SET state = 'completed', result = ?, finished_at = ?, ${unlock} WHERE id = ?`, [
        JSON.stringify(end.result ?? null),
        now,
        id,
      ]);
      events.push({ type: 'completed', jobId: id });
      return 'completed';
    }
    const willRetry = end.retryable && row.attempts_made < row.max_attempts;
    if (willRetry) {
      const runAt = now + backoffDelay(JSON.parse(row.backoff) as Backoff, row.attempts_made);
      await tx.execute(`UPDATE jobs SET state = 'delayed', error = ?, run_at = ?, ${unlock} WHERE id = ?`, [
        JSON.stringify(end.error),
        runAt,
        id,
      ]);
    } else {
      await tx.execute(`UPDATE jobs SET state = 'failed', error = ?, finished_at = ?, ${unlock} WHERE id = ?`, [
        JSON.stringify(end.error),
        now,
        id,
      ]);
    }
    events.push({ type: 'failed', jobId: id, error: end.error, willRetry });
    return willRetry ? 'delayed' : 'failed';
  });
}

/** Records progress of a job this worker holds. */
export function recordProgress(context: SqlJobContext, claim: ClaimedJob, progress: JobProgress): Promise<void> {
  return writeJobs(context, async (tx, events) => {
    const { changes } = await tx.execute(
      "UPDATE jobs SET progress = ? WHERE id = ? AND lock_token = ? AND state = 'active'",
      [JSON.stringify(progress), claim.record.id, claim.token],
    );
    if (changes > 0) events.push({ type: 'progress', jobId: claim.record.id, progress });
  });
}

/**
 * Recovers jobs whose lock expired (their worker died or hung): back to `waiting` while attempts
 * remain — the lost attempt counts — else `failed`; `cancelled` when a cancel was asked.
 */
export function recoverStalled(context: SqlJobContext): Promise<number> {
  const { queue } = context;
  return writeJobs(context, async (tx, events) => {
    const now = Date.now();
    const rows = await tx.query<Pick<JobRow, 'id' | 'attempts_made' | 'max_attempts' | 'cancel_requested'>>(
      "SELECT id, attempts_made, max_attempts, cancel_requested FROM jobs WHERE queue = ? AND state = 'active' AND lock_expires_at < ?",
      [queue, now],
    );
    for (const row of rows) events.push(...(await recoverOne(tx, row, now)));
    return rows.length;
  });
}

async function recoverOne(
  tx: SqlExecutor,
  row: Pick<JobRow, 'id' | 'attempts_made' | 'max_attempts' | 'cancel_requested'>,
  now: number,
): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const unlock = 'worker_id = NULL, lock_token = NULL, lock_expires_at = NULL';
  if (row.cancel_requested !== 0) {
    await tx.execute(`UPDATE jobs SET state = 'cancelled', finished_at = ?, ${unlock} WHERE id = ?`, [now, row.id]);
    events.push({ type: 'cancelled', jobId: row.id });
    return events;
  }
  events.push({ type: 'stalled', jobId: row.id });
  if (row.attempts_made < row.max_attempts) {
    await tx.execute(`UPDATE jobs SET state = 'waiting', run_at = ?, ${unlock} WHERE id = ?`, [now, row.id]);
    return events;
  }
  const error: JobError = {
    code: 'INTERNAL',
    message: `the worker running attempt ${row.attempts_made} stopped without finishing it (its lock expired)`,
    attempt: row.attempts_made,
  };
  await tx.execute(`UPDATE jobs SET state = 'failed', error = ?, finished_at = ?, ${unlock} WHERE id = ?`, [
    JSON.stringify(error),
    now,
    row.id,
  ]);
  events.push({ type: 'failed', jobId: row.id, error, willRetry: false });
  return events;
}
