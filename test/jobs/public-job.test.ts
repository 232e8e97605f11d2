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

test("a callback URL's credentials and query are hidden in what the API shows", () => {
  const record = {
    id: 'j',
    kind: 'infer-async',
    state: 'waiting',
    attemptsMade: 0,
    maxAttempts: 1,
    createdAt: 0,
    payload: { model: 'm', callback: { url: 'https://user:pw@example.test:8443/hook?token=abc&x=1' } },
  } as unknown as JobRecord;
  const shown = publicJob(record).payload as { callback: { url: string } };
  assert.equal(shown.callback.url, `https://example.test:8443/hook?${REDACTED}`);
  assert.equal((record.payload as { callback: { url: string } }).callback.url.includes('token=abc'), true);
});
