/**
 * Submission checks a job completely before it is queued, on the real embedded queue: an unknown
 * kind (with the nearest one), unknown keys and out-of-range values in the payload or the options
 * are BAD_REQUEST naming their path, a training spec's own rules apply, an oversized payload is
 * BODY_TOO_LARGE; nothing bad reaches the queue, and a good job is queued with defaults filled in.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { checkSubmission, submitJob } from '../../src/jobs/submit-job.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';

const SPEC = {
  name: 'submit-check',
  data: { source: { format: 'csv', path: 'rows.csv' }, label: 'y' },
  features: { transforms: [{ column: 'x', transform: 'standardize' }] },
  model: { kind: 'linear', objective: 'binary' },
};

async function queueFor(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-submit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl: `sqlite:${join(dir, 'db.sqlite')}` });
  t.after(() => queue.close());
  return queue;
}

function refusedWith(code: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StratumError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

test('a bad kind, bad keys and bad values are refused with their path, and nothing is queued', async (t) => {
  const queue = await queueFor(t);
  const bad: [unknown, RegExp][] = [
    [{ kind: 'trian', payload: {} }, /kind: unknown job kind "trian"; did you mean "train"\?/],
    [{ kind: 'noop', payload: { sleepMs: -1 } }, /payload\.sleepMs: .*>=0/],
    [{ kind: 'noop', payload: { sleep: 5 } }, /payload: unknown key "sleep"; did you mean "sleepMs"\?/],
    [{ kind: 'noop', payload: {}, priority: 0 }, /priority: /],
    [{ kind: 'noop', payload: {}, atempts: 2 }, /unknown key "atempts"; did you mean "attempts"\?/],
    [{ kind: 'noop', payload: {}, backoff: { type: 'linear', delayMs: 5 } }, /backoff\.type: expected one of/],
    [
      { kind: 'train', payload: { spec: { ...SPEC, model: { ...SPEC.model, params: { l2: -1 } } }, baseDir: '/tmp' } },
      /payload\.spec\.model\.params\.l2: /,
    ],
    [{ kind: 'train', payload: { spec: SPEC, baseDir: 'relative/dir' } }, /payload\.baseDir: must be an absolute path/],
    [
      // The spec's cross-field rule: the label cannot also be a feature.
      {
        kind: 'train',
        payload: {
          spec: { ...SPEC, features: { transforms: [{ column: 'y', transform: 'standardize' }] } },
          baseDir: '/tmp',
        },
      },
      /payload\.spec: features: the label column "y" cannot also be a feature/,
    ],
  ];
  for (const [input, pattern] of bad) {
    await assert.rejects(submitJob(queue, input), refusedWith('BAD_REQUEST', pattern), JSON.stringify(input));
  }
  assert.equal((await queue.list()).items.length, 0);
});

test('an oversized payload is BODY_TOO_LARGE, naming its size and the limit', async (t) => {
  const queue = await queueFor(t);
  const spec = { ...SPEC, name: 'x'.repeat(10) };
  const input = { kind: 'train', payload: { spec, baseDir: '/tmp', codeVersion: 'c'.repeat(200) } };
  await assert.rejects(
    submitJob(queue, input, { maxPayloadBytes: 200 }),
    refusedWith('BODY_TOO_LARGE', /payload is \d+ bytes as JSON, over the 200-byte limit/),
  );
  assert.equal((await queue.list()).items.length, 0);
});

test('a good job is queued with its payload parsed (defaults filled in) and its options', async (t) => {
  const queue = await queueFor(t);
  const job = await submitJob(
    queue,
    { kind: 'train', payload: { spec: SPEC, baseDir: '/data' }, priority: 5, attempts: 2, idempotencyKey: 'k1' },
    { by: 'tester' },
  );
  assert.equal(job.kind, 'train');
  assert.equal(job.state, 'waiting');
  assert.equal(job.priority, 5);
  assert.equal(job.maxAttempts, 2);
  assert.equal(job.by, 'tester');
  const payload = job.payload as { spec: { split: { validation: number } }; baseDir: string };
  assert.equal(payload.spec.split.validation, 0.2);
  assert.equal(payload.baseDir, '/data');
  const again = await submitJob(queue, {
    kind: 'train',
    payload: { spec: SPEC, baseDir: '/data' },
    idempotencyKey: 'k1',
  });
  assert.equal(again.id, job.id);
  assert.deepEqual(checkSubmission({ kind: 'noop', payload: {} }), { kind: 'noop', payload: {} });
});
