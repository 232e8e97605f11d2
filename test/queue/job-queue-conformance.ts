/**
 * The job queue contract, run against every engine on the real database. Each test opens its own
 * queue name, waits for events and states (never for durations) and closes what it opened.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StratumError } from '../../src/errors/index.ts';
import type { JobEvent, JobQueue, JobRecord, JobState } from '../../src/queue/job-queue.ts';

/** How a test process reaches the queue under test (for child processes). */
export interface QueueConnection {
  readonly queueUrl: string;
  readonly databaseUrl: string;
  readonly name: string;
}

/** Opens a fresh queue named `name`. */
export type OpenQueue = (name: string) => Promise<{ queue: JobQueue; connection: QueueConnection }>;

const FIXTURE = fileURLToPath(new URL('./fixtures/stalling-worker.ts', import.meta.url));

/** Waits until job `id` meets `predicate`, re-reading it on each of its events. */
export async function waitForJob(
  queue: JobQueue,
  id: string,
  predicate: (job: JobRecord) => boolean,
): Promise<JobRecord> {
  return new Promise<JobRecord>((resolve, reject) => {
    let done = false;
    const check = (): void => {
      queue.get(id).then((job) => {
        if (!done && predicate(job)) {
          done = true;
          unsubscribe();
          clearInterval(timer);
          resolve(job);
        }
      }, reject);
    };
    const unsubscribe = queue.onEvent((event) => {
      if (event.jobId === id) check();
    });
    // Events are the signal; this re-read only covers an event that fired before the subscription.
    const timer = setInterval(check, 200);
    check();
  });
}

const waitForState = (queue: JobQueue, id: string, state: JobState): Promise<JobRecord> =>
  waitForJob(queue, id, (job) => job.state === state);

/** Collects a queue's events. */
function recordEvents(t: TestContext, queue: JobQueue): JobEvent[] {
  const events: JobEvent[] = [];
  t.after(queue.onEvent((event) => events.push(event)));
  return events;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof StratumError && error.code === code);
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Registers the conformance tests for one engine. */
export function jobQueueConformance(engine: string, openQueue: OpenQueue): void {
  async function open(t: TestContext): Promise<{ queue: JobQueue; connection: QueueConnection }> {
    const opened = await openQueue(`conf-${randomUUID().slice(0, 8)}`);
    t.after(() => opened.queue.close());
    return opened;
  }

  test(`${engine}: submit, get, list pages newest first, bad input`, async (t) => {
    const { queue } = await open(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await queue.submit({ kind: 'noop', payload: { i }, by: 'alice' })).id);
    const job = await queue.get(ids[0] ?? '');
    assert.equal(job.state, 'waiting');
    assert.deepEqual(job.payload, { i: 0 });
    assert.equal(job.by, 'alice');
    assert.equal(job.attemptsMade, 0);
    assert.equal(job.maxAttempts, 3);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await queue.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    assert.deepEqual(seen, [...ids].reverse());
    assert.equal((await queue.list({ kind: 'other' })).items.length, 0);
    await rejectsWith(queue.get('no-such-job'), 'JOB_NOT_FOUND');
    await rejectsWith(queue.submit({ kind: 'Bad Kind', payload: null }), 'BAD_REQUEST');
    await rejectsWith(queue.submit({ kind: 'noop', payload: null, priority: 0 }), 'BAD_REQUEST');
  });

  test(`${engine}: list pages through more than 1000 jobs of a state, newest first, by state, kind and parent`, async (t) => {
    const { queue } = await open(t);
    // No worker: every job stays waiting. Bursts of 50 at once, bursts one after another.
    const total = 1_060;
    const batchOf = new Map<string, number>();
    const others: string[] = [];
    const children: string[] = [];
    for (let start = 0; start < total; start += 50) {
      const burst = await Promise.all(
        Array.from({ length: Math.min(50, total - start) }, (_, j) => {
          const i = start + j;
          if (i % 100 === 7) return queue.submit({ kind: 'other', payload: i });
          if (i % 100 === 9) return queue.submit({ kind: 'noop', payload: i, parentId: 'parent-1' });
          return queue.submit({ kind: 'noop', payload: i });
        }),
      );
      for (const job of burst) {
        batchOf.set(job.id, start);
        if (job.kind === 'other') others.push(job.id);
        if (job.parentId === 'parent-1') children.push(job.id);
      }
    }
    const cancelled = [...batchOf.keys()].slice(100, 103);
    for (const id of cancelled) await queue.cancel(id);

    async function listAll(options: Parameters<JobQueue['list']>[0]): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await queue.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
        pages++;
        ids.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return { ids, pages };
    }

    const waiting = await listAll({ state: 'waiting', limit: 1000 });
    assert.equal(waiting.pages, 2);
    assert.equal(waiting.ids.length, total - cancelled.length);
    assert.equal(new Set(waiting.ids).size, waiting.ids.length);
    // Newest first: a later burst never lists after an earlier one.
    const bursts = waiting.ids.map((id) => batchOf.get(id) ?? -1);
    assert.ok(bursts.every((burst, i) => burst >= 0 && (i === 0 || burst <= (bursts[i - 1] ?? 0))));

    const everything = await listAll({ limit: 300 });
    assert.equal(everything.ids.length, total);
    assert.deepEqual(new Set(everything.ids), new Set(batchOf.keys()));
    assert.deepEqual((await listAll({ state: 'cancelled', limit: 2 })).ids.sort(), [...cancelled].sort());
    assert.deepEqual((await listAll({ kind: 'other' })).ids.sort(), [...others].sort());
    assert.deepEqual((await listAll({ parentId: 'parent-1', state: 'waiting' })).ids.sort(), [...children].sort());
    assert.equal((await listAll({ state: 'completed' })).ids.length, 0);

    // Keyset pages: a job submitted between two pages shows on neither, and nothing repeats.
    const first = await queue.list({ limit: 500 });
    const late = await queue.submit({ kind: 'noop', payload: 'late' });
    const second = await queue.list({
      limit: 1000,
      ...(first.nextCursor === undefined ? {} : { cursor: first.nextCursor }),
    });
    const seen = [...first.items, ...second.items].map((item) => item.id);
    assert.equal(seen.length, total);
    assert.ok(!seen.includes(late.id));
    assert.equal((await queue.list({ limit: 1 })).items[0]?.id, late.id);
    await rejectsWith(queue.list({ cursor: 'not-a-cursor' }), 'BAD_REQUEST');
  });

  test(`${engine}: jobs without a priority first in order, then by priority; counts`, async (t) => {
    const { queue } = await open(t);
    const a = await queue.submit({ kind: 'noop', payload: 'a' });
    const b = await queue.submit({ kind: 'noop', payload: 'b', priority: 5 });
    const c = await queue.submit({ kind: 'noop', payload: 'c', priority: 1 });
    const d = await queue.submit({ kind: 'noop', payload: 'd' });
    const counts = await queue.counts();
    assert.equal(counts.waiting, 2);
    assert.equal(counts.prioritized, 2);
    const order: unknown[] = [];
    const worker = queue.work({ handler: async (job) => order.push(job.record.payload), concurrency: 1 });
    t.after(() => worker.close());
    await waitForState(queue, b.id, 'completed');
    await Promise.all([a, c, d].map((job) => waitForState(queue, job.id, 'completed')));
    assert.deepEqual(order, ['a', 'd', 'c', 'b']);
    const after = await queue.counts();
    assert.equal(after.completed, 4);
    assert.equal(after.waiting + after.prioritized + after.active, 0);
  });

  test(`${engine}: an idempotency key returns the first job`, async (t) => {
    const { queue } = await open(t);
    const first = await queue.submit({ kind: 'noop', payload: 1, idempotencyKey: 'k-1' });
    const second = await queue.submit({ kind: 'noop', payload: 2, idempotencyKey: 'k-1' });
    assert.equal(second.id, first.id);
    assert.deepEqual(second.payload, 1);
    const third = await queue.submit({ kind: 'noop', payload: 3, idempotencyKey: 'k-2' });
    assert.notEqual(third.id, first.id);
    assert.equal((await queue.list()).items.length, 2);
  });

  test(`${engine}: retries with backoff, then failed with the error kept, then retry revives it`, async (t) => {
    const { queue } = await open(t);
    const events = recordEvents(t, queue);
    let calls = 0;
    let healthy = false;
    const worker = queue.work({
      handler: async () => {
        calls++;
        if (!healthy) throw new Error(`boom ${calls}`);
        return { ok: true };
      },
    });
    t.after(() => worker.close());
    const job = await queue.submit({
      kind: 'flaky',
      payload: null,
      attempts: 3,
      backoff: { type: 'exponential', delayMs: 20, jitter: 0.5 },
    });
    const failed = await waitForState(queue, job.id, 'failed');
    assert.equal(calls, 3);
    assert.equal(failed.attemptsMade, 3);
    assert.equal(failed.error?.code, 'INTERNAL');
    assert.equal(failed.error?.message, 'boom 3');
    assert.equal(failed.error?.attempt, 3);
    const failures = events.filter((e) => e.type === 'failed' && e.jobId === job.id);
    assert.deepEqual(
      failures.map((e) => (e.type === 'failed' ? e.willRetry : undefined)),
      [true, true, false],
    );
    healthy = true;
    await queue.retry(job.id);
    const completed = await waitForState(queue, job.id, 'completed');
    assert.deepEqual(completed.result, { ok: true });
    // Attempts were reset: the revived job's only attempt was its first.
    assert.equal(completed.attemptsMade, 1);
    await rejectsWith(queue.retry(job.id), 'JOB_FINISHED');
  });

  test(`${engine}: a 4xx StratumError is not retried`, async (t) => {
    const { queue } = await open(t);
    let calls = 0;
    const worker = queue.work({
      handler: async () => {
        calls++;
        throw new StratumError('BAD_REQUEST', 'rows: expected an array', { details: { path: ['rows'] } });
      },
    });
    t.after(() => worker.close());
    const job = await queue.submit({ kind: 'strict', payload: null, attempts: 5 });
    const failed = await waitForState(queue, job.id, 'failed');
    assert.equal(calls, 1);
    assert.equal(failed.error?.code, 'BAD_REQUEST');
    assert.deepEqual(failed.error?.details, { path: ['rows'] });
  });

  test(`${engine}: a timeout aborts the signal and fails the attempt with JOB_TIMEOUT`, async (t) => {
    const { queue } = await open(t);
    const reasons: unknown[] = [];
    const worker = queue.work({
      handler: async (job) => {
        try {
          return await untilAborted(job.signal);
        } finally {
          reasons.push((job.signal.reason as StratumError | undefined)?.code);
        }
      },
    });
    t.after(() => worker.close());
    const job = await queue.submit({ kind: 'slow', payload: null, timeoutMs: 50, attempts: 1 });
    const failed = await waitForState(queue, job.id, 'failed');
    assert.equal(failed.error?.code, 'JOB_TIMEOUT');
    assert.deepEqual(reasons, ['JOB_TIMEOUT']);
  });

  test(`${engine}: cancel of waiting and delayed jobs is immediate; finished jobs refuse`, async (t) => {
    const { queue } = await open(t);
    const waiting = await queue.submit({ kind: 'noop', payload: null });
    const delayed = await queue.submit({ kind: 'noop', payload: null, delayMs: 3_600_000 });
    assert.equal(delayed.state, 'delayed');
    assert.equal((await queue.counts()).delayed, 1);
    assert.equal((await queue.cancel(waiting.id)).state, 'cancelled');
    assert.equal((await queue.cancel(delayed.id)).state, 'cancelled');
    await rejectsWith(queue.cancel(waiting.id), 'JOB_FINISHED');
    await rejectsWith(queue.cancel('no-such-job'), 'JOB_NOT_FOUND');
    assert.equal((await queue.counts()).cancelled, 2);
  });

  test(`${engine}: cancel of an active job aborts its handler and ends it cancelled`, async (t) => {
    const { queue } = await open(t);
    const reasons: unknown[] = [];
    const worker = queue.work({
      handler: async (job) => {
        try {
          return await untilAborted(job.signal);
        } finally {
          reasons.push((job.signal.reason as StratumError | undefined)?.code);
        }
      },
    });
    t.after(() => worker.close());
    const job = await queue.submit({ kind: 'long', payload: null });
    await waitForState(queue, job.id, 'active');
    await queue.cancel(job.id);
    const cancelled = await waitForState(queue, job.id, 'cancelled');
    assert.deepEqual(reasons, ['JOB_CANCELLED']);
    assert.equal(cancelled.attemptsMade, 1);
    await worker.close();
    const revived = await queue.retry(job.id);
    assert.equal(revived.state, 'waiting');
  });

  test(`${engine}: progress is recorded and published; the result is kept`, async (t) => {
    const { queue } = await open(t);
    const events = recordEvents(t, queue);
    const worker = queue.work({
      handler: async (job) => {
        await job.progress({ fraction: 0.5, message: 'half', data: { rows: 5 } });
        return { rows: 10 };
      },
    });
    t.after(() => worker.close());
    const job = await queue.submit({ kind: 'report', payload: null });
    const completed = await waitForState(queue, job.id, 'completed');
    assert.deepEqual(completed.result, { rows: 10 });
    assert.equal(completed.progress?.fraction, 0.5);
    assert.equal(completed.attemptsMade, 1);
    assert.ok(completed.startedAt !== undefined && completed.finishedAt !== undefined);
    await waitFor(() => events.some((e) => e.type === 'progress' && e.jobId === job.id), queue);
    const progress = events.find((e) => e.type === 'progress' && e.jobId === job.id);
    assert.deepEqual(progress?.type === 'progress' ? progress.progress.data : undefined, { rows: 5 });
  });

  test(`${engine}: a worker killed mid-job loses it to another, which completes it once`, async (t) => {
    const { queue, connection } = await open(t);
    const job = await queue.submit({ kind: 'stall', payload: null, attempts: 3 });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, JSON.stringify({ ...connection, lockMs: 600 })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) if (line === `active ${job.id}`) break;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    let runs = 0;
    const worker = queue.work({
      lockMs: 600,
      handler: async (active) => {
        runs++;
        return { attempt: active.attempt };
      },
    });
    t.after(() => worker.close());
    const completed = await waitForState(queue, job.id, 'completed');
    assert.equal(runs, 1);
    assert.equal(completed.attemptsMade, 2);
    assert.deepEqual(completed.result, { attempt: 2 });
  });

  test(`${engine}: admission: a job runs only once admitted; closing ends a wait for admission`, async (t) => {
    const { queue } = await open(t);
    const first = await queue.submit({ kind: 'noop', payload: 1 });
    const second = await queue.submit({ kind: 'noop', payload: 2 });
    const ran: unknown[] = [];
    const waiting: (() => void)[] = [];
    let admitAll = false;
    let asked: () => void = () => undefined;
    const firstAsk = new Promise<void>((resolve) => (asked = resolve));
    const worker = queue.work({
      concurrency: 4,
      handler: async (job) => ran.push(job.record.payload),
      admit: () =>
        new Promise<void>((resolve) => {
          if (admitAll) return resolve();
          waiting.push(resolve);
          asked();
        }),
    });
    t.after(() => worker.close());
    await firstAsk;
    assert.deepEqual(ran, [], 'nothing runs before it is admitted');
    if (engine === 'sqlite') {
      // Asked before claiming, one job per admission: both jobs are still waiting, one ask pending.
      assert.equal((await queue.get(first.id)).state, 'waiting');
      assert.equal((await queue.get(second.id)).state, 'waiting');
      assert.equal(waiting.length, 1);
    }
    admitAll = true;
    for (const admit of waiting.splice(0)) admit();
    await waitForState(queue, first.id, 'completed');
    await waitForState(queue, second.id, 'completed');
    assert.deepEqual([...ran].sort(), [1, 2]);

    await worker.close();

    // A worker waiting for an admission that never comes closes, and leaves the job to others.
    const held = await queue.submit({ kind: 'noop', payload: 3 });
    let heldAsk: () => void = () => undefined;
    const heldAsked = new Promise<void>((resolve) => (heldAsk = resolve));
    const stuck = queue.work({
      handler: async () => assert.fail('not admitted: must not run'),
      admit: (signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          heldAsk();
        }),
    });
    await heldAsked;
    await stuck.close();
    assert.equal((await queue.get(held.id)).state, 'waiting');
  });

  test(`${engine}: close is idempotent for workers and queues`, async (t) => {
    const { queue } = await open(t);
    const worker = queue.work({ handler: async () => null });
    await Promise.all([worker.close(), worker.close()]);
    await worker.close();
    await queue.close();
    await queue.close();
  });
}

/** Waits until `condition` holds, re-checking on each of the queue's events. */
async function waitFor(condition: () => boolean, queue: JobQueue): Promise<void> {
  if (condition()) return;
  await new Promise<void>((resolve) => {
    const unsubscribe = queue.onEvent(() => {
      if (condition()) {
        unsubscribe();
        resolve();
      }
    });
  });
}
