/**
 * BullMQ's queue events (a Redis stream every process reads) as Stratum's job events. BullMQ has
 * no event for a failed attempt that will be retried nor for a cancel, so the engine publishes
 * those itself as custom `stratum` events on the same stream.
 */
import type { QueueEvents } from 'bullmq';
import type { JobEvent, JobProgress } from './job-queue.ts';
import { type BullmqJob, parseJobError } from './bullmq-job-records.ts';

/** What the translation needs. */
export interface TranslateOptions {
  readonly events: QueueEvents;
  readonly deliver: (event: JobEvent) => void;
  /** Reads a job (for the attempt number of `active`). */
  readonly getJob: (id: string) => Promise<BullmqJob | undefined>;
  /** Whether anyone listens: `active` costs a read of the job, skipped when no one does. */
  readonly listening: () => boolean;
}

/** Wires BullMQ's events to `deliver`. */
export function translateQueueEvents(options: TranslateOptions): void {
  const { events, deliver, getJob, listening } = options;
  events.on('added', ({ jobId, name }) => deliver({ type: 'added', jobId, kind: name }));
  events.on('active', ({ jobId }) => {
    if (!listening()) return;
    getJob(jobId).then(
      (job) => deliver({ type: 'active', jobId, attempt: job?.attemptsStarted ?? 1 }),
      () => deliver({ type: 'active', jobId, attempt: 1 }),
    );
  });
  events.on('progress', ({ jobId, data }) => {
    if (typeof data === 'object' && data !== null) deliver({ type: 'progress', jobId, progress: data as JobProgress });
  });
  events.on('completed', ({ jobId }) => deliver({ type: 'completed', jobId }));
  events.on('failed', ({ jobId, failedReason }) => {
    const error = parseJobError(failedReason, 0) ?? { code: 'INTERNAL', message: 'failed', attempt: 0 };
    if (error.code === 'JOB_CANCELLED') deliver({ type: 'cancelled', jobId });
    else deliver({ type: 'failed', jobId, error, willRetry: false });
  });
  events.on('stalled', ({ jobId }) => deliver({ type: 'stalled', jobId }));
  // Custom events carry their fields beside BullMQ's own `event` field, hence `payload`.
  (events as unknown as { on(name: string, listener: (args: { payload?: string }) => void): void }).on(
    'stratum',
    ({ payload }) => {
      if (typeof payload === 'string') deliver(JSON.parse(payload) as JobEvent);
    },
  );
}
