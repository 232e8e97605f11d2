/**
 * The `jobs` table of the embedded engine as rows, and their mapping to the contract's records.
 * JSON columns are parsed here and nowhere else; the payload only when it is read.
 */
import type { Backoff, JobError, JobProgress, JobRecord, JobState } from './job-queue.ts';

/** A `jobs` row with its payload, as a SELECT of {@link JOB_COLUMNS} returns it. */
export interface JobRow {
  readonly id: string;
  readonly queue: string;
  readonly seq: number;
  readonly kind: string;
  readonly payload: string;
  readonly state: JobState;
  readonly priority: number | null;
  readonly urgency: number;
  readonly attempts_made: number;
  readonly max_attempts: number;
  readonly backoff: string;
  readonly timeout_ms: number | null;
  readonly run_at: number;
  readonly idempotency_key: string | null;
  readonly parent_id: string | null;
  readonly created_by: string;
  readonly progress: string | null;
  readonly result: string | null;
  readonly error: string | null;
  readonly cancel_requested: number;
  readonly worker_id: string | null;
  readonly lock_token: string | null;
  readonly lock_expires_at: number | null;
  readonly created_at: number;
  readonly started_at: number | null;
  readonly finished_at: number | null;
}

/** Every column of `jobs`: what a caller that already holds the payload re-reads. */
export const JOB_COLUMNS_BUT_PAYLOAD =
  'id, queue, seq, kind, state, priority, urgency, attempts_made, max_attempts, backoff, timeout_ms, ' +
  'run_at, idempotency_key, parent_id, created_by, progress, result, error, cancel_requested, worker_id, ' +
  'lock_token, lock_expires_at, created_at, started_at, finished_at';

/**
 * The columns a record needs, in one place for every `SELECT … FROM jobs`: the payload comes from
 * `job_payloads` (written once, apart from the row that keeps changing; migration 008).
 */
export const JOB_COLUMNS = `${JOB_COLUMNS_BUT_PAYLOAD}, (SELECT p.payload FROM job_payloads p WHERE p.id = jobs.id) AS payload`;

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

/**
 * A row as the contract's record. The payload is parsed when it is first read, then kept: the
 * records of status reads, lists and submissions are mostly never asked for it, and an
 * `infer-async` payload is a large string.
 */
export function toJobRecord(row: JobRow): JobRecord {
  const progress = parse(row.progress) as JobProgress | undefined;
  const result = parse(row.result);
  const error = parse(row.error) as JobError | undefined;
  const record = {
    id: row.id,
    kind: row.kind,
    payload: undefined as unknown,
    state: row.state,
    ...(row.priority === null ? {} : { priority: row.priority }),
    attemptsMade: row.attempts_made,
    maxAttempts: row.max_attempts,
    backoff: JSON.parse(row.backoff) as Backoff,
    ...(row.timeout_ms === null ? {} : { timeoutMs: row.timeout_ms }),
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
    ...(row.parent_id === null ? {} : { parentId: row.parent_id }),
    by: row.created_by,
    ...(progress === undefined ? {} : { progress }),
    ...(result === undefined ? {} : { result }),
    ...(error === undefined ? {} : { error }),
    cancelRequested: row.cancel_requested !== 0,
    ...(row.worker_id === null ? {} : { workerId: row.worker_id }),
    createdAt: row.created_at,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
  };
  let text: string | undefined = row.payload;
  let payload: unknown;
  // Enumerable like a data property, so spreads, structured clones and JSON see the payload.
  Object.defineProperty(record, 'payload', {
    enumerable: true,
    get() {
      if (text !== undefined) {
        payload = JSON.parse(text);
        text = undefined;
      }
      return payload;
    },
  });
  return record;
}
