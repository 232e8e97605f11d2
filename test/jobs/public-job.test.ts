/**
 * The jobs API never shows a callback's signing secret: the record it replies with has it replaced,
 * and the stored record (which the delivery reads) keeps it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicJob, REDACTED } from '../../src/jobs/public-job.ts';
import type { JobRecord } from '../../src/queue/job-queue.ts';

const base: JobRecord = {
  id: 'j1',
  kind: 'infer-async',
  payload: {
    model: 'm',
    request: { inputs: [] },
    callback: { url: 'https://example.test/hook', secret: 's'.repeat(20) },
  },
  state: 'waiting',
  attemptsMade: 0,
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 1000 },
  by: 'test',
  cancelRequested: false,
  createdAt: 1,
};

test('a callback secret is redacted in what the API shows, and only there', () => {
  const shown = publicJob(base);
  assert.deepEqual(shown.payload, {
    model: 'm',
    request: { inputs: [] },
    callback: { url: 'https://example.test/hook', secret: REDACTED },
  });
  assert.equal((base.payload as { callback: { secret: string } }).callback.secret, 's'.repeat(20));
  // Jobs without a secret are shown as they are.
  const plain = { ...base, payload: { model: 'm', callback: { url: 'https://example.test/hook' } } };
  assert.equal(publicJob(plain), plain);
  const train = { ...base, kind: 'train', payload: { spec: {}, baseDir: '/x' } };
  assert.equal(publicJob(train), train);
  assert.equal(publicJob({ ...base, payload: null }).payload, null);
});
