/**
 * Whole canaries judged from recorded request outcomes: seeded streams of latencies and failures,
 * with noise shared by both versions (load that swells and ebbs, bursts) and garbage-collection
 * pauses, are routed by the step's percentage into the real windows (`WindowStats`) and judged by
 * the real step judge after every few requests, as the controller does on its timer. Time is the
 * request count (one request per simulated millisecond), so nothing depends on the machine.
 *
 * Twenty canaries of two identical versions are all promoted; twenty with 5 ms more latency, and
 * twenty with 2% more failures, are all rolled back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CanaryEvidenceSchema } from '../../src/deploy/canary-evidence.ts';
import { createStepJudge, type StepDecision } from '../../src/deploy/canary-judge.ts';
import { WindowStats } from '../../src/deploy/window-stats.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { type CanaryPolicy, CanaryPolicySchema } from '../../src/registry/deployment-spec.ts';

/** How a version behaves: extra latency and an extra failure rate over the shared baseline. */
interface Behaviour {
  readonly extraMs: number;
  readonly extraErrorRate: number;
}

const SAME: Behaviour = { extraMs: 0, extraErrorRate: 0 };
/** Failures of either version whatever it is: a caller's timeout, a dropped connection. */
const BASE_ERROR_RATE = 0.001;
/** Judged every this many requests (the controller ticks every 100 ms). */
const JUDGE_EVERY = 10;
/** Upper bound of a step, far beyond `maxWaitSeconds` at one request per ms. */
const MAX_REQUESTS_PER_STEP = 2_000_000;

/** Seeded latency noise of a server under changing load (ms). */
function noisyLatency(seed: number): (t: number) => number {
  const random = mulberry32(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let burstUntil = -1;
  return (t) => {
    // Load that swells and ebbs over seconds, felt by both versions at once.
    const load = 1 + 0.4 * Math.sin(t / 3000) + 0.2 * Math.sin(t / 710);
    // Now and then a burst of contention (another process, a noisy neighbour) for 50 ms.
    if (t > burstUntil && random() < 0.0005) burstUntil = t + 50;
    const burst = t <= burstUntil ? 3 : 0;
    // A garbage-collection pause catches about one request in a hundred.
    const pause = random() < 0.01 ? 5 + 25 * random() : 0;
    return 1.7 * load * Math.exp(0.25 * gaussian()) + burst + pause;
  };
}

interface CanaryOutcome {
  readonly status: 'promoted' | 'rolled_back' | 'aborted';
  /** The step it ended at. */
  readonly step: number;
  readonly reason?: string;
  readonly decisions: StepDecision[];
  /** Whether the p99 ratio rule this judge replaced would have rolled it back. */
  readonly oldRuleFired: boolean;
}

/** Runs one canary through every step of `policy`. */
function runCanary(options: { seed: number; policy: CanaryPolicy; canary: Behaviour }): CanaryOutcome {
  const { seed, policy, canary } = options;
  const random = mulberry32(seed);
  const latency = noisyLatency(seed * 7919);
  const decisions: StepDecision[] = [];
  let t = 0;
  let oldRuleFired = false;
  for (let step = 0; step < policy.steps.length; step++) {
    const percent = policy.steps[step] ?? 100;
    const windows = {
      canary: new WindowStats({ random: mulberry32(seed + step), startedAt: t }),
      stable: new WindowStats({ random: mulberry32(seed + 100 + step), startedAt: t }),
    };
    const judge = createStepJudge({ canaryId: `canary-${seed}`, policy, step, startedAt: t });
    let decision: StepDecision = { action: 'wait' };
    for (let i = 1; i <= MAX_REQUESTS_PER_STEP && decision.action === 'wait'; i++, t++) {
      const toCanary = random() * 100 < percent;
      const behaviour = toCanary ? canary : SAME;
      const failed = random() < BASE_ERROR_RATE + behaviour.extraErrorRate;
      const window = toCanary ? windows.canary : windows.stable;
      window.request(!failed, latency(t) + behaviour.extraMs);
      // Both versions give the same answers: every comparison agrees.
      if (toCanary && random() < policy.compareRate) windows.canary.comparison(true);
      if (i % 500 === 0 && percent < 100) oldRuleFired ||= oldP99Rule(windows.canary, windows.stable);
      if (i % JUDGE_EVERY === 0) {
        decision = judge.judge({ canary: windows.canary, stable: windows.stable, now: t });
        decisions.push(decision);
      }
    }
    if (decision.action === 'rollback' || decision.action === 'abort') {
      const status = decision.action === 'rollback' ? 'rolled_back' : 'aborted';
      return { status, step, reason: decision.reason, decisions, oldRuleFired };
    }
    assert.equal(decision.action, 'advance', `step ${step} of canary ${seed} ended`);
  }
  return { status: 'promoted', step: policy.steps.length - 1, decisions, oldRuleFired };
}

/** The gate this judge replaced: canary p99 over 2 × the stable p99 + 1 ms, with 50 requests a side. */
function oldP99Rule(canary: WindowStats, stable: WindowStats): boolean {
  const c = canary.snapshot();
  const s = stable.snapshot();
  if (c.requests < 50 || s.requests < 50 || c.p99Ms === undefined || s.p99Ms === undefined) return false;
  return c.p99Ms > 2 * s.p99Ms + 1;
}

const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i);

test('twenty canaries of two identical versions under noisy load are all promoted', () => {
  const policy = CanaryPolicySchema.parse({ stepSeconds: 10 });
  const outcomes = SEEDS.map((seed) => runCanary({ seed, policy, canary: SAME }));
  for (const [i, outcome] of outcomes.entries()) {
    assert.equal(outcome.status, 'promoted', `canary ${SEEDS[i]}: ${outcome.reason}`);
  }
  // The noise is real: the p99 rule this judge replaced would have rolled some of them back.
  const fooled = outcomes.filter((o) => o.oldRuleFired).length;
  assert.ok(fooled > 0, 'the old p99 ratio rule would have rolled back at least one identical canary');
  // Every advance carries its evidence: samples of both versions and every gate's test.
  const advance = outcomes[0]?.decisions.find((d) => d.action === 'advance');
  assert.ok(advance?.action === 'advance');
  const evidence = CanaryEvidenceSchema.parse(advance.evidence);
  assert.equal(evidence.verdict, 'pass');
  assert.ok(evidence.canary.requests >= policy.minRequests && (evidence.stable?.requests ?? 0) >= policy.minRequests);
  assert.deepEqual(
    evidence.gates.map((g) => [g.gate, g.verdict]),
    [
      ['latency', 'pass'],
      ['error-rate', 'pass'],
      ['max-error-rate', 'pass'],
      ['disagreement', 'pass'],
    ],
  );
});

test('twenty canaries 5 ms slower are all rolled back at their first step, on consecutive checks', () => {
  const policy = CanaryPolicySchema.parse({ stepSeconds: 10 });
  for (const seed of SEEDS) {
    const outcome = runCanary({ seed, policy, canary: { extraMs: 5, extraErrorRate: 0 } });
    assert.equal(outcome.status, 'rolled_back', `canary ${seed}`);
    assert.equal(outcome.step, 0);
    assert.match(outcome.reason ?? '', /^latency: canary \+\d\.\d\d ms \(\+\d+%\) vs stable .* Mann–Whitney U = /);
    assert.match(outcome.reason ?? '', /on 2 consecutive checks/);
    // The first breach was recorded before the second confirmed it.
    const breach = outcome.decisions.find((d) => d.action === 'wait' && d.event !== undefined);
    assert.ok(breach?.action === 'wait' && breach.event !== undefined);
    assert.match(breach.event.message, /check 1: breach 1 of 2 \(latency\)/);
  }
});

test('twenty canaries with 2% more failures are all rolled back once the sample can show it', () => {
  // 2% against 0.1% is significant with about 400 requests a version; 2,000 leaves no doubt.
  const policy = CanaryPolicySchema.parse({ stepSeconds: 10, minRequests: 2000 });
  for (const seed of SEEDS) {
    const outcome = runCanary({ seed, policy, canary: { extraMs: 0, extraErrorRate: 0.02 } });
    assert.equal(outcome.status, 'rolled_back', `canary ${seed}`);
    assert.equal(outcome.step, 0);
    assert.match(outcome.reason ?? '', /^error rate: canary [12]\.\d% vs stable 0\.\d% .* on 2 consecutive checks/);
  }
});

test('too little traffic: the step waits, says so once, and aborts at maxWaitSeconds — it never advances', () => {
  const policy = CanaryPolicySchema.parse({ stepSeconds: 1, maxWaitSeconds: 60, minRequests: 100 });
  const judge = createStepJudge({ canaryId: 'quiet', policy, step: 0, startedAt: 0 });
  const canary = new WindowStats({ startedAt: 0 });
  const stable = new WindowStats({ startedAt: 0 });
  const decisions: StepDecision[] = [];
  // One canary request every 10 s (5% of a quiet service): ten by the limit, never a hundred.
  for (let now = 0; now <= 60_000; now += 100) {
    if (now % 10_000 === 0) canary.request(true, 1.7);
    if (now % 500 === 0) stable.request(true, 1.7);
    decisions.push(judge.judge({ canary, stable, now }));
  }
  const actions = decisions.map((d) => d.action);
  assert.ok(!actions.includes('advance'), 'never advances without a check');
  assert.equal(actions.at(-1), 'abort');
  const notices = decisions.filter((d) => d.action === 'wait' && d.event !== undefined);
  assert.equal(notices.length, 1, 'one notice, halfway');
  const notice = notices[0];
  assert.ok(notice?.action === 'wait' && notice.event?.kind === 'canary-waiting');
  assert.match(notice.event.message, /waiting for traffic: canary \d+ of 100 requests, stable \d+ of 100/);
  const abort = decisions.at(-1);
  assert.ok(abort?.action === 'abort');
  assert.match(abort.reason, /step 1\/4 \(5%\) could not be judged within 60 s \(maxWaitSeconds\): canary 7 of 100/);
});
