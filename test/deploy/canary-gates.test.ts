import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCanary, minimumComparisons } from '../../src/deploy/canary-gates.ts';
import { CanaryPolicySchema } from '../../src/registry/deployment-spec.ts';
import type { WindowSnapshot } from '../../src/deploy/window-stats.ts';

const policy = CanaryPolicySchema.parse({ stepSeconds: 1, minRequests: 20, compareRate: 0.5 });
const now = 1_000_000;

function window(overrides: Partial<WindowSnapshot>): WindowSnapshot {
  return { requests: 100, errors: 0, p99Ms: 2, compared: 50, disagreements: 0, startedAt: now - 5_000, ...overrides };
}

test('a canary waits until it has seen enough requests, whatever they look like', () => {
  const decision = evaluateCanary({ policy, canary: window({ requests: 19, errors: 19 }), stableP99Ms: 1, now });
  assert.equal(decision.action, 'wait');
});

test('an error rate over the gate rolls back, and the reason says by how much', () => {
  const decision = evaluateCanary({ policy, canary: window({ errors: 6 }), stableP99Ms: 2, now });
  assert.equal(decision.action, 'rollback');
  assert.match(decision.action === 'rollback' ? decision.reason : '', /error rate 6\.0% over 100 requests .* 5\.0%/);
});

test('a p99 above the ratio of the stable p99 (plus slack) rolls back; within it, the step advances', () => {
  const slow = evaluateCanary({ policy, canary: window({ p99Ms: 10 }), stableP99Ms: 2, now });
  assert.equal(slow.action, 'rollback');
  assert.match(
    slow.action === 'rollback' ? slow.reason : '',
    /p99 10\.00 ms is above 2× the stable version's 2\.00 ms/,
  );
  const ok = evaluateCanary({ policy, canary: window({ p99Ms: 4.9 }), stableP99Ms: 2, now });
  assert.equal(ok.action, 'advance');
});

test('an absolute p99 gate applies even without a stable figure', () => {
  const strict = CanaryPolicySchema.parse({ ...policy, gates: { maxP99Ms: 1 } });
  const decision = evaluateCanary({ policy: strict, canary: window({ p99Ms: 1.5 }), stableP99Ms: undefined, now });
  assert.equal(decision.action, 'rollback');
});

test('disagreement over the gate rolls back once enough requests were compared', () => {
  const few = evaluateCanary({ policy, canary: window({ compared: 4, disagreements: 4 }), stableP99Ms: 2, now });
  assert.equal(few.action, 'wait', `fewer than ${minimumComparisons(policy)} comparisons cannot decide`);
  const many = evaluateCanary({ policy, canary: window({ compared: 40, disagreements: 9 }), stableP99Ms: 2, now });
  assert.equal(many.action, 'rollback');
  assert.match(many.action === 'rollback' ? many.reason : '', /disagree .* 22\.5% of 40 compared requests/);
});

test('a healthy step advances only after its minimum duration', () => {
  const early = evaluateCanary({ policy, canary: window({ startedAt: now - 200 }), stableP99Ms: 2, now });
  assert.equal(early.action, 'wait');
  const late = evaluateCanary({ policy, canary: window({}), stableP99Ms: 2, now });
  assert.equal(late.action, 'advance');
});
