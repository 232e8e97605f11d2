/**
 * Waits for a batch's chunk jobs to finish, from the queue's events (any process's) and the jobs'
 * stored states, so a coordinator restarted after a crash picks up where the chunks are. A chunk
 * that ends `failed` (its last attempt) or `cancelled` fails the wait with its error.
 */
import { StratumError } from '../../errors/index.ts';
import type { JobQueue, JobRecord } from '../../queue/job-queue.ts';

/** Re-reads the states even without an event: a guard against a missed event, not a timing. */
const RECHECK_MS = 2_000;

/** Options of {@link awaitChunkJobs}. */
export interface AwaitChunkJobsOptions {
  readonly queue: JobQueue;
  /** Chunk index → its job id. */
  readonly jobs: ReadonlyMap<number, string>;
  readonly signal: AbortSignal;
  /** Called when a chunk job completes. */
  readonly onCompleted: (chunk: number, record: JobRecord) => Promise<void> | void;
  /**
   * `completed`: every job must complete (a failed or cancelled one rejects); `finished`: wait
   * until every job has stopped, however it ended (after cancelling them).
   * @default 'completed'
   */
  readonly until?: 'completed' | 'finished';
  /**
   * A chunk whose part exists counts as done whatever its job's state (the coordinator may have
   * run it itself). @default none
   */
  readonly partDone?: (chunk: number) => Promise<boolean>;
  /** Receives a function that makes the wait look again at once (after a chunk ran here). */
  readonly onWake?: (wake: () => void) => void;
}

/** Resolves when every job completed (or its part exists); rejects with the first failed chunk's error or the abort reason. */
export async function awaitChunkJobs(options: AwaitChunkJobsOptions): Promise<void> {
  const { queue, signal } = options;
  const pending = new Map<string, number>([...options.jobs].map(([chunk, id]) => [id, chunk]));
  let wake: (() => void) | undefined;
  const unsubscribe = queue.onEvent((event) => {
    if (pending.has(event.jobId)) wake?.();
  });
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  options.onWake?.(() => wake?.());
  try {
    while (pending.size > 0) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, RECHECK_MS).unref();
      });
      for (const [id, chunk] of [...pending]) {
        signal.throwIfAborted();
        const record = await queue.get(id);
        if (record.state === 'completed' || (options.partDone !== undefined && (await options.partDone(chunk)))) {
          pending.delete(id);
          await options.onCompleted(chunk, record);
        } else if (record.state === 'failed' || record.state === 'cancelled') {
          if (options.until !== 'finished') throw chunkFailure(chunk, record);
          pending.delete(id);
        }
      }
      if (pending.size > 0) await woken;
      signal.throwIfAborted();
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

function chunkFailure(chunk: number, record: JobRecord): StratumError {
  if (record.state === 'cancelled') {
    return new StratumError('JOB_CANCELLED', `chunk ${chunk} (job ${record.id}) was cancelled`, {
      details: { chunk, job: record.id },
    });
  }
  const error = record.error;
  const code = (error?.code ?? 'INTERNAL') as ConstructorParameters<typeof StratumError>[0];
  return new StratumError(code, `chunk ${chunk} failed: ${error?.message ?? 'no error recorded'}`, {
    details: { chunk, job: record.id, ...(error?.details !== undefined && { cause: error.details }) },
  });
}
