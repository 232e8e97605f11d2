/**
 * The job queue on BullMQ and Redis, for many machines. BullMQ claims, locks, retries with
 * backoff (its own jitter), recovers stalled jobs and keeps results (removeOnComplete: false);
 * this module maps the contract onto it. Our job id is BullMQ's jobId (an idempotency key becomes
 * a deterministic id, so BullMQ's "one job per id" is the key's uniqueness); cancelled jobs are
 * kept in a Redis hash (see `bullmq-job-records.ts`); `list` pages through an index of our own
 * (`bullmq-job-index.ts`); a cancel of an active job is published on a Redis channel every worker
 * of the queue listens to. With Redis down, calls fail at once with QUEUE_UNAVAILABLE (the
 * producer connection has no offline queue) while workers and event listeners reconnect and
 * resume by themselves.
 */
import { Queue, QueueEvents, QueueEventsProducer, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { AttemptAbort } from './attempt-abort.ts';
import { abortReasons } from './job-options.ts';
import type { JobEvent, JobQueue, JobWorker, WorkOptions } from './job-queue.ts';
import {
  type BullmqQueueContext,
  cancelBullmqJob,
  countBullmqJobs,
  entombJob,
  publishJobEvent,
  requireBullmqJob,
  retryBullmqJob,
  submitBullmqJob,
} from './bullmq-job-ops.ts';
import type { BullmqJob } from './bullmq-job-records.ts';
import { listBullmqJobs } from './bullmq-job-list.ts';
import { createJobIndexWriter, indexExistingJobs, jobIndexKeys } from './bullmq-job-index.ts';
import { translateQueueEvents } from './bullmq-job-events.ts';
import { startBullmqWorker } from './bullmq-job-worker.ts';

/** Options of {@link createBullmqJobQueue}. */
export interface BullmqJobQueueOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** The BullMQ queue name. @default 'default' */
  readonly name?: string;
  /** Prefix of every Redis key. @default 'stratum' */
  readonly prefix?: string;
  /** How long opening waits for Redis before QUEUE_UNAVAILABLE (ms). @default 5000 */
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

// A cancel heard before its handler started is remembered this long.
const RECENT_CANCEL_MS = 60_000;

/** Opens the queue; QUEUE_UNAVAILABLE when Redis cannot be reached. */
export async function createBullmqJobQueue(options: BullmqJobQueueOptions): Promise<JobQueue> {
  const { url, logger } = options;
  const name = options.name ?? 'default';
  const prefix = options.prefix ?? 'stratum';
  const cancelledKey = `${prefix}:${name}:stratum:cancelled`;
  const cancelChannel = `${prefix}:${name}:stratum:cancel`;
  // Workers and event readers wait through outages; the producer side fails fast instead.
  const connection: ConnectionOptions = { url, maxRetriesPerRequest: null };
  const fast = { url, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', (error) => logger?.debug({ err: error }, 'job queue Redis connection error'));
  const queue = new Queue<BullmqJob['data'], unknown, string>(name, { connection: fast, prefix });
  queue.on('error', (error) => logger?.debug({ err: error }, 'BullMQ queue error'));
  let events: QueueEvents | undefined;
  const producer = new QueueEventsProducer(name, { connection, prefix });
  producer.on('error', (error) => logger?.debug({ err: error }, 'BullMQ event producer error'));
  const listeners = new Set<(event: JobEvent) => void>();
  const workers = new Set<JobWorker>();
  const cancels = createCancelRegistry();
  let subscriber: Redis | undefined;
  let closing: Promise<void> | undefined;

  const unavailable = (cause?: unknown): StratumError =>
    new StratumError('QUEUE_UNAVAILABLE', `the job queue's Redis at ${url} cannot be reached; retry when it is back`, {
      details: { queue: name },
      cause,
    });

  async function guard<T>(run: () => Promise<T>): Promise<T> {
    if (closing !== undefined) throw new StratumError('QUEUE_UNAVAILABLE', `job queue "${name}" is closed`);
    if (client.status !== 'ready') throw unavailable();
    try {
      return await run();
    } catch (error) {
      if (error instanceof StratumError) throw error;
      if (
        client.status !== 'ready' ||
        /ECONNREFUSED|Connection is closed|enableOfflineQueue|writeable/.test(String(error))
      )
        throw unavailable(error);
      throw error;
    }
  }

  function deliver(event: JobEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        logger?.warn({ err: error, event: event.type }, 'a job event listener threw');
      }
    }
  }

  const indexKeys = jobIndexKeys(prefix, name);
  try {
    await withTimeout(
      Promise.all([client.connect(), queue.waitUntilReady(), producer.waitUntilReady()]),
      options.connectTimeoutMs ?? 5000,
    );
    await indexExistingJobs({ queue, client, keys: indexKeys, cancelledKey, logger });
  } catch (error) {
    await Promise.allSettled([queue.close(), producer.close()]);
    client.disconnect();
    throw unavailable(error);
  }
  const index = createJobIndexWriter(client, indexKeys);
  const context: BullmqQueueContext = { queue, client, producer, cancelledKey, cancelChannel, indexKeys, index };
  // The event stream is read only once someone listens: reading it costs a connection and CPU
  // for every job. It starts a second back (stream ids are Redis's clock in ms) so that events
  // of the moment of subscribing are not lost; clocks further apart than that can miss a few.
  function listen(): void {
    if (events !== undefined) return;
    events = new QueueEvents(name, { connection, prefix, lastEventId: `${Date.now() - 1000}-0` });
    events.on('error', (error) => logger?.debug({ err: error }, 'BullMQ queue events error'));
    translateQueueEvents({
      events,
      deliver,
      getJob: (id) => queue.getJob(id) as Promise<BullmqJob | undefined>,
      listening: () => listeners.size > 0,
    });
  }

  function work(options: WorkOptions): JobWorker {
    if (closing !== undefined) throw new StratumError('QUEUE_UNAVAILABLE', `job queue "${name}" is closed`);
    if (subscriber === undefined) {
      subscriber = new Redis(url, { maxRetriesPerRequest: null });
      subscriber.on('error', (error) => logger?.debug({ err: error }, 'job cancel channel error'));
      subscriber.on('message', (_channel: string, id: string) => cancels.heard(id));
      subscriber
        .subscribe(cancelChannel)
        .catch((error: unknown) => logger?.warn({ err: error }, 'subscribing to cancels failed'));
    }
    const running = new Map<string, AttemptAbort>();
    const worker = startBullmqWorker(
      {
        name,
        prefix,
        connection,
        running,
        wasCancelled: (id) => cancels.wasHeard(id),
        publish: (event) => publishJobEvent(context, event),
        entomb: (job) => entombJob(context, job),
        logger,
      },
      options,
    );
    const forget = cancels.track(running);
    const handle: JobWorker = {
      close: async (graceMs) => {
        await worker.close(graceMs);
        forget();
        workers.delete(handle);
      },
    };
    workers.add(handle);
    return handle;
  }

  return {
    engine: 'bullmq',
    submit: (submission) => guard(() => submitBullmqJob(context, submission)),
    get: (id) => guard(async () => (await requireBullmqJob(context, id)).record),
    list: (options) => guard(() => listBullmqJobs(context, options)),
    cancel: (id) => guard(() => cancelBullmqJob(context, id)),
    retry: (id) => guard(() => retryBullmqJob(context, id)),
    counts: () => guard(() => countBullmqJobs(context)),
    work,
    onEvent(listener) {
      listeners.add(listener);
      listen();
      return () => listeners.delete(listener);
    },
    close() {
      closing ??= (async () => {
        const results: PromiseSettledResult<unknown>[] = await Promise.allSettled(
          [...workers].map((worker) => worker.close()),
        );
        listeners.clear();
        results.push(
          ...(await Promise.allSettled([
            events?.close() ?? Promise.resolve(),
            producer.close(),
            queue.close(),
            subscriber?.quit() ?? Promise.resolve(),
            client.quit(),
          ])),
        );
        const failures = results.filter((result) => result.status === 'rejected').length;
        if (failures > 0) logger?.debug({ failures }, 'closing the job queue failed in part');
      })();
      return closing;
    },
  };
}

/** Cancels heard on the channel: aborts the handlers running them, remembers them a while. */
function createCancelRegistry(): {
  heard(id: string): void;
  wasHeard(id: string): boolean;
  track(running: Map<string, AttemptAbort>): () => void;
} {
  const recent = new Map<string, number>();
  const runningSets = new Set<Map<string, AttemptAbort>>();
  return {
    heard(id) {
      const now = Date.now();
      recent.set(id, now);
      for (const [key, at] of recent) if (now - at > RECENT_CANCEL_MS) recent.delete(key);
      for (const running of runningSets) running.get(id)?.abort(abortReasons.cancelled(id));
    },
    wasHeard: (id) => recent.has(id),
    track(running) {
      runningSets.add(running);
      return () => runningSets.delete(running);
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
