/**
 * One check of a canary step: each gate breaches only on evidence — a significant test and, for a
 * comparison with the stable version, an effect over the declared minimum.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GateEvidence } from '../../src/deploy/canary-evidence.ts';
import { checkGates, minimumComparisons } from '../../src/deploy/canary-gates.ts';
import type { WindowSample } from '../../src/deploy/window-stats.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { CanaryOverridesSchema, CanaryPolicySchema } from '../../src/registry/deployment-spec.ts';

const policy = CanaryPolicySchema.parse({ minRequests: 100, compareRate: 0.5 });

/** `n` latencies around `medianMs` (±10%), seeded. */
function latencies(n: number, medianMs: number, seed = 1): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => medianMs * (0.9 + 0.2 * random()));
}

function sample(overrides: Partial<WindowSample> & { latencies: number[] }): WindowSample {
  return { requests: overrides.latencies.length, errors: 0, compared: 60, disagreements: 0, ...overrides };
}

function gate(gates: readonly GateEvidence[], name: GateEvidence['gate']): GateEvidence {
  const found = gates.find((g) => g.gate === name);
  assert.ok(found, `gate ${name} was judged`);
  return found;
}

test('a canary 5 ms slower breaches the latency gate; the evidence has U, z, p and the shift', () => {
  const check = checkGates({
    policy,
    canary: sample({ latencies: latencies(100, 6.7, 2) }),
    stable: sample({ latencies: latencies(1900, 1.7, 3) }),
  });
  const latency = gate(check.gates, 'latency');
  assert.equal(latency.verdict, 'breach');
  assert.ok(latency.gate === 'latency');
  assert.ok(latency.pValue < 1e-10 && latency.u > 0.99 * 100 * 1900, `U ${latency.u}, p ${latency.pValue}`);
  assert.ok(Math.abs(latency.shiftMs - 5) < 0.2, `shift ${latency.shiftMs}`);
  assert.deepEqual(
    check.breached.map((g) => g.gate),
    ['latency'],
  );
});

test('a significant but small slowdown passes: the shift must exceed both 1 ms and 10% of the stable median', () => {
  // 0.5 ms slower on 4096 requests each: certain, and too small to matter.
  const absolute = checkGates({
    policy,
    canary: sample({ latencies: latencies(4096, 2.2, 4) }),
    stable: sample({ latencies: latencies(4096, 1.7, 5) }),
  });
  const small = gate(absolute.gates, 'latency');
  assert.ok(small.gate === 'latency' && small.pValue < 1e-10, 'the slowdown is significant');
  assert.equal(small.verdict, 'pass', 'under the 1 ms minimum');
  // 3 ms slower on a 100 ms median: over 1 ms, under 10%.
  const relative = checkGates({
    policy,
    canary: sample({ latencies: latencies(4096, 103, 6) }),
    stable: sample({ latencies: latencies(4096, 100, 7) }),
  });
  assert.equal(gate(relative.gates, 'latency').verdict, 'pass', 'under the 10% minimum');
});

test('a few slow requests (garbage-collection pauses) do not breach the latency gate', () => {
  const canary = latencies(100, 1.7, 8);
  canary[10] = 40;
  canary[50] = 25;
  const check = checkGates({
    policy,
    canary: sample({ latencies: canary }),
    stable: sample({ latencies: latencies(1900, 1.7, 9) }),
  });
  assert.equal(gate(check.gates, 'latency').verdict, 'pass');
  assert.deepEqual(check.breached, []);
});

test('error rate: 2% against none breaches once the sample can show it; 2 of 100 cannot', () => {
  const stable = sample({ latencies: latencies(2000, 1.7) });
  const many = checkGates({ policy, canary: sample({ latencies: latencies(2000, 1.7), errors: 40 }), stable });
  const rate = gate(many.gates, 'error-rate');
  assert.equal(rate.verdict, 'breach');
  assert.ok(rate.gate === 'error-rate' && rate.test === 'z' && rate.pValue < 1e-8, `p ${rate.pValue}`);
  const few = checkGates({
    policy,
    canary: sample({ latencies: latencies(100, 1.7), errors: 2 }),
    stable: sample({ latencies: latencies(100, 1.7) }),
  });
  assert.equal(gate(few.gates, 'error-rate').verdict, 'pass', 'p = 0.25: no evidence');
});

test('error rate: a significant increase under the 1-point minimum passes', () => {
  const n = 100_000;
  const check = checkGates({
    policy,
    canary: { requests: n, errors: 600, latencies: latencies(100, 1.7), compared: 60, disagreements: 0 },
    stable: { requests: n, errors: 100, latencies: latencies(100, 1.7), compared: 0, disagreements: 0 },
  });
  const rate = gate(check.gates, 'error-rate');
  assert.ok(rate.gate === 'error-rate' && rate.test === 'z' && rate.pValue < 1e-10);
  assert.equal(rate.verdict, 'pass');
});

test('the absolute error-rate gate needs the rate above it with confidence', () => {
  const stable = sample({ latencies: latencies(1000, 1.7) });
  const check = (errors: number, maxErrorRate = 0.05) =>
    gate(
      checkGates({
        policy: CanaryPolicySchema.parse({ ...policy, gates: { maxErrorRate } }),
        canary: sample({ latencies: latencies(100 - errors, 1.7), requests: 100, errors }),
        stable,
      }).gates,
      'max-error-rate',
    ).verdict;
  assert.equal(check(6), 'pass', '6% of 100 is no evidence of more than 5%');
  assert.equal(check(15), 'breach');
  assert.equal(check(1, 0), 'breach', 'a gate of 0: one failure is over it');
});

test('the absolute p99 gate counts the requests slower than it', () => {
  const strict = CanaryPolicySchema.parse({ ...policy, gates: { maxP99Ms: 3 } });
  const stable = sample({ latencies: latencies(1000, 1.7) });
  const twoSlow = latencies(100, 1.7);
  twoSlow[0] = 9;
  twoSlow[1] = 9;
  const ok = checkGates({ policy: strict, canary: sample({ latencies: twoSlow }), stable });
  assert.equal(gate(ok.gates, 'max-p99').verdict, 'pass', '2 of 100 over the limit is no evidence against a p99');
  const slow = checkGates({ policy: strict, canary: sample({ latencies: latencies(100, 5) }), stable });
  const p99 = gate(slow.gates, 'max-p99');
  assert.ok(p99.gate === 'max-p99' && p99.slower === 100 && p99.verdict === 'breach');
});

test('disagreement waits for enough comparisons, then needs a rate above the gate with confidence', () => {
  const needed = minimumComparisons(policy);
  const stable = sample({ latencies: latencies(100, 1.7) });
  const few = checkGates({
    policy,
    canary: sample({ latencies: latencies(100, 1.7), compared: needed - 1, disagreements: needed - 1 }),
    stable,
  });
  assert.equal(gate(few.gates, 'disagreement').verdict, 'waiting');
  assert.equal(few.complete, false, 'a waiting gate blocks advancing');
  const all = checkGates({
    policy,
    canary: sample({ latencies: latencies(100, 1.7), compared: 40, disagreements: 40 }),
    stable,
  });
  assert.equal(gate(all.gates, 'disagreement').verdict, 'breach');
  const some = checkGates({
    policy,
    canary: sample({ latencies: latencies(100, 1.7), compared: 40, disagreements: 6 }),
    stable,
  });
  assert.equal(gate(some.gates, 'disagreement').verdict, 'pass', '6 of 40 is no evidence of more than 10%');
});

test('at a step without stable traffic only the gates on the canary alone apply', () => {
  const check = checkGates({ policy, canary: sample({ latencies: latencies(100, 50) }), stable: undefined });
  assert.deepEqual(
    check.gates.map((g) => g.gate),
    ['max-error-rate', 'disagreement'],
  );
  assert.equal(check.complete, true);
});

test('specs stored with the retired maxP99Ratio gate still parse, without it', () => {
  const parsed = CanaryPolicySchema.parse({ gates: { maxP99Ratio: 2, maxErrorRate: 0.1 } });
  assert.equal('maxP99Ratio' in parsed.gates, false);
  assert.equal(parsed.gates.maxErrorRate, 0.1);
  assert.equal(parsed.consecutiveBreaches, 2);
  assert.equal(parsed.minRequests, 100);
  assert.equal(parsed.confidence, 0.99);
});

test('a per-rollout override of one gate leaves the others to the deployment (no defaults in overrides)', () => {
  assert.deepEqual(CanaryOverridesSchema.parse({ gates: { maxErrorRate: 0.2, maxP99Ratio: 3 } }), {
    gates: { maxErrorRate: 0.2 },
  });
  assert.equal(CanaryOverridesSchema.safeParse({ gates: { maxErrorRat: 0.2 } }).success, false, 'typos are refused');
});
