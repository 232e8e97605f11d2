/**
 * The job queue contract: durable queued work with kinds, priorities, retries with backoff,
 * timeouts, cancellation, progress, durable results, idempotency keys and a dead-letter state.
 * Two engines implement it — the embedded one in the SQLite metadata database (one machine, a
 * restart loses no job) and BullMQ on Redis (many machines) — and one conformance suite runs
 * against both. The queue knows nothing of what a kind means: `src/jobs/` validates payloads at
 * submission and runs them.
 */
import type { Page, PageOptions } from '../store/metadata-store.ts';

/**
 * Where a job is in its life.
 * - `waiting`: ready to run (a worker takes the most urgent first);
 * - `delayed`: waiting for its backoff (between attempts) or its `delayMs` to pass;
 * - `active`: a worker holds it (its lock is renewed while the worker lives);
 * - `completed`: finished with a result;
 * - `failed`: the dead-letter state — the last attempt failed; the error is kept and `retry` revives it;
 * - `cancelled`: cancelled by a caller; it left no partial output.
 */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

/** The states a job never leaves on its own. */
export const FINISHED_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

/** How long to wait before the next attempt. */
export interface Backoff {
  /** `exponential`: `delayMs · 2^(attempt−1)`; `fixed`: `delayMs` every time. */
  readonly type: 'exponential' | 'fixed';
  readonly delayMs: number;
  /**
   * Fraction of the delay drawn at random and subtracted (0: none, 1: anywhere from 0 to the full
   * delay), so that many jobs failing together do not retry together. @default 0.5
   */
  readonly jitter?: number;
}

/** What a caller gives to submit a job. */
export interface SubmitJob {
  /** What the job does (`train`, `tune`, `trial`, `batch-infer`, `evaluate`, `infer-async`, …). */
  readonly kind: string;
  /** The kind's input, validated by the caller before it is queued. JSON. */
  readonly payload: unknown;
  /**
   * Omitted: served first, in submission order. 1 … 2_097_152: served after every job without a
   * priority, lower numbers first (BullMQ's rule, kept by the embedded engine too).
   */
  readonly priority?: number;
  /** Attempts in all, the first included. @default 3 */
  readonly attempts?: number;
  /** @default { type: 'exponential', delayMs: 1000, jitter: 0.5 } */
  readonly backoff?: Backoff;
  /** An attempt running longer is aborted and fails with JOB_TIMEOUT. @default none */
  readonly timeoutMs?: number;
  /** Start no earlier than this many ms from now. @default 0 */
  readonly delayMs?: number;
  /**
   * A second submission with the same key returns the first job (whatever its state) instead of
   * queueing another. Keys are kept as long as the job is.
   */
  readonly idempotencyKey?: string;
  /** The job this one belongs to (a trial's experiment, a batch chunk's batch job). */
  readonly parentId?: string;
  /** Who submitted it (recorded, shown). @default 'system' */
  readonly by?: string;
}

/** Progress a handler reports: any of a fraction done, a message and structured data. */
export interface JobProgress {
  /** 0 … 1 */
  readonly fraction?: number;
  readonly message?: string;
  /** JSON: e.g. rows done, the current metric, a trial table. */
  readonly data?: unknown;
}

/** The error an attempt ended with. */
export interface JobError {
  /** A Stratum error code when the handler threw a StratumError, else `INTERNAL`. */
  readonly code: string;
  readonly message: string;
  /** The attempt (1-based) that failed. */
  readonly attempt: number;
  /** Details of a StratumError (JSON). */
  readonly details?: unknown;
}

/** A job as stored. */
export interface JobRecord {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly state: JobState;
  /** As submitted; undefined when none was given. */
  readonly priority?: number;
  /** Attempts started so far (0 before the first). */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly timeoutMs?: number;
  readonly idempotencyKey?: string;
  readonly parentId?: string;
  readonly by: string;
  readonly progress?: JobProgress;
  /** Set once `completed`. JSON. */
  readonly result?: unknown;
  /** The last attempt's error (kept in `failed`, and while a retry is `delayed`). */
  readonly error?: JobError;
  /** A cancel was asked while the job was active; the handler's signal has been aborted. */
  readonly cancelRequested: boolean;
  /** The worker holding an active job (`host:pid/slot`). */
  readonly workerId?: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** When the current or last attempt started. */
  readonly startedAt?: number;
  /** When the job reached a finished state. */
  readonly finishedAt?: number;
}

/** Jobs by state, for the queue-depth metrics an autoscaler reads. */
export interface JobCounts {
  /** Waiting jobs without a priority. */
  readonly waiting: number;
  /** Waiting jobs with a priority. */
  readonly prioritized: number;
  readonly delayed: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

/** Filters of {@link JobQueue.list}; newest first. */
export interface JobListOptions extends PageOptions {
  readonly state?: JobState;
  readonly kind?: string;
  readonly parentId?: string;
}

/** A change to a job, seen by every process sharing the queue. */
export type JobEvent =
  | { readonly type: 'added'; readonly jobId: string; readonly kind: string }
  | { readonly type: 'active'; readonly jobId: string; readonly attempt: number }
  | { readonly type: 'progress'; readonly jobId: string; readonly progress: JobProgress }
  | { readonly type: 'completed'; readonly jobId: string }
  /** `willRetry`: the job went to `delayed` for another attempt; otherwise it is `failed`. */
  | { readonly type: 'failed'; readonly jobId: string; readonly error: JobError; readonly willRetry: boolean }
  | { readonly type: 'cancelled'; readonly jobId: string }
  /** A lock expired (its worker died) and the job went back to `waiting`. */
  | { readonly type: 'stalled'; readonly jobId: string };

/** The job a handler is running. */
export interface ActiveJob {
  readonly record: JobRecord;
  /** 1-based. */
  readonly attempt: number;
  /**
   * Aborted when the job is cancelled, times out, or the worker closes without finishing it
   * (`signal.reason` is a StratumError: JOB_CANCELLED, JOB_TIMEOUT or SHUTTING_DOWN). A handler
   * stops promptly and leaves no partial output.
   */
  readonly signal: AbortSignal;
  /** Records progress durably and publishes a `progress` event. */
  progress(progress: JobProgress): Promise<void>;
}

/**
 * Runs one job and resolves with its result (JSON), which is stored when the job completes.
 * Throwing fails the attempt: retried with backoff while attempts remain, unless the error is a
 * StratumError whose code says retrying cannot help (BAD_REQUEST and the other 4xx codes).
 */
export type JobHandler = (job: ActiveJob) => Promise<unknown>;

/** Options of {@link JobQueue.work}. */
export interface WorkOptions {
  readonly handler: JobHandler;
  /** Only these kinds. @default every kind */
  readonly kinds?: readonly string[];
  /** Jobs run at once by this worker. @default 1 */
  readonly concurrency?: number;
  /** Identifies the worker in `workerId`. @default `host:pid` */
  readonly name?: string;
  /**
   * How long a lock lasts without renewal; a worker that dies loses its jobs to another after at
   * most this long. @default 30000
   */
  readonly lockMs?: number;
  /** Told when attempts start and end, for metrics (see `queue-metrics.ts`). @default none */
  readonly observer?: JobObserver;
  /**
   * Admission: awaited before each job is taken, which then happens one job at a time (a burst of
   * queued work is taken as room appears, not all at once). The signal aborts when the worker
   * closes. The embedded engine calls it before claiming, so a job waits in `waiting`; BullMQ
   * claims on its own, so there it is awaited after the claim, before the handler runs.
   * @default none: jobs are taken whenever a slot is free
   */
  readonly admit?: (signal: AbortSignal) => Promise<void>;
}

/** How an attempt ended, for metrics: `retry` means it failed and another attempt is scheduled. */
export type AttemptOutcome = 'completed' | 'failed' | 'retry' | 'cancelled';

/** Hears of the attempts a worker runs (it must not throw). */
export interface JobObserver {
  /** A job's first attempt started `waitMs` after it was submitted. */
  started(attempt: { readonly kind: string; readonly waitMs: number }): void;
  /** An attempt ended after `durationMs`. */
  finished(attempt: { readonly kind: string; readonly durationMs: number; readonly outcome: AttemptOutcome }): void;
}

/** A running consumer; `close()` stops taking jobs and waits for (or aborts) the running ones. */
export interface JobWorker {
  /** Stops taking jobs; running handlers get `graceMs` to finish, then their signal aborts. */
  close(graceMs?: number): Promise<void>;
}

/** The queue. */
export interface JobQueue {
  readonly engine: 'sqlite' | 'bullmq';
  /** Queues a job (or returns the one with the same idempotency key). */
  submit(job: SubmitJob): Promise<JobRecord>;
  /** JOB_NOT_FOUND when there is none. */
  get(id: string): Promise<JobRecord>;
  list(options?: JobListOptions): Promise<Page<JobRecord>>;
  /**
   * Waiting or delayed: `cancelled` at once. Active: `cancelRequested` is set and the handler's
   * signal aborts wherever it runs; the job is `cancelled` when the handler returns. Finished:
   * JOB_FINISHED.
   */
  cancel(id: string): Promise<JobRecord>;
  /** A `failed` or `cancelled` job goes back to `waiting` with its attempts reset; else JOB_FINISHED. */
  retry(id: string): Promise<JobRecord>;
  counts(): Promise<JobCounts>;
  /** Starts consuming jobs in this process. */
  work(options: WorkOptions): JobWorker;
  /** Every job event of every process sharing the queue; returns the unsubscribe function. */
  onEvent(listener: (event: JobEvent) => void): () => void;
  /** Closes workers started here, then connections. Idempotent. */
  close(): Promise<void>;
}
