/**
 * The attempt runner both engines share, alone: the lazily made signal carries an abort that
 * happened before it was read, a timeout ends an attempt whose handler ignores its signal, and a
 * cancel waits for the handler and still ends the attempt cancelled.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStratumError } from '../../src/errors/index.ts';
import { AttemptAbort } from '../../src/queue/attempt-abort.ts';
import { abortReasons } from '../../src/queue/job-options.ts';
import type { ActiveJob, JobRecord } from '../../src/queue/job-queue.ts';
import { runAttempt } from '../../src/queue/run-attempt.ts';

const record: JobRecord = {
  id: 'job-1',
  kind: 'noop',
  payload: null,
  state: 'active',
  attemptsMade: 2,
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 0 },
  by: 'system',
  cancelRequested: false,
  createdAt: 0,
};
const progress = async (): Promise<void> => undefined;
const codeOf = (error: unknown): string | undefined => (isStratumError(error) ? error.code : undefined);

test('a handler that never reads its signal completes with its result and its attempt number', async () => {
  const abort = new AttemptAbort();
  const outcome = await runAttempt({ record, progress, abort, handler: async (job) => job.attempt });
  assert.deepEqual(outcome, { ok: true, result: 2 });
  assert.equal(abort.aborted, false);
});

test('a signal first read after the abort is already aborted, with the reason', async () => {
  const abort = new AttemptAbort();
  abort.abort(abortReasons.cancelled('job-1'));
  abort.abort(abortReasons.shutdown('job-1'));
  let seen: { aborted: boolean; code: string | undefined } | undefined;
  const outcome = await runAttempt({
    record,
    progress,
    abort,
    handler: async (job: ActiveJob) => {
      seen = { aborted: job.signal.aborted, code: codeOf(job.signal.reason) };
      return 'done anyway';
    },
  });
  assert.deepEqual(seen, { aborted: true, code: 'JOB_CANCELLED' });
  // It returned normally after the cancel: the attempt still ends cancelled.
  assert.equal(outcome.ok, false);
  assert.equal(codeOf(outcome.ok ? undefined : outcome.error), 'JOB_CANCELLED');
});

test('a timeout ends the attempt even when the handler ignores its signal; a cancel waits for it', async () => {
  let release: (() => void) | undefined;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  const timedOut = await runAttempt({
    record,
    progress,
    abort: new AttemptAbort(),
    timeoutMs: 20,
    handler: () => stuck,
  });
  assert.equal(codeOf(timedOut.ok ? undefined : timedOut.error), 'JOB_TIMEOUT');

  const abort = new AttemptAbort();
  let finished = false;
  const cancelled = runAttempt({
    record,
    progress,
    abort,
    handler: async (job) => {
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
      finished = true;
      throw job.signal.reason;
    },
  });
  abort.abort(abortReasons.cancelled('job-1'));
  const outcome = await cancelled;
  assert.equal(finished, true);
  assert.equal(codeOf(outcome.ok ? undefined : outcome.error), 'JOB_CANCELLED');
  release?.();
});
