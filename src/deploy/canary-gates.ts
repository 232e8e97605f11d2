/**
 * One check of a canary step: every gate of the policy judged on what the step has seen so far,
 * each by a one-sided test at the policy's confidence (`canary-statistics.ts`). A comparison with
 * the stable version breaches only when it is significant *and* the effect is larger than the
 * declared minimum, so a difference too small to matter never rolls back, however much traffic
 * makes it significant; a rate against a fixed limit breaches when it is above the limit with
 * that confidence. How checks add up to a decision is `canary-judge.ts`'s job.
 */
import type { CanaryPolicy } from '../registry/deployment-spec.ts';
import type { GateEvidence } from './canary-evidence.ts';
import {
  binomialUpperTail,
  hodgesLehmannShift,
  mannWhitneyGreater,
  median,
  proportionGreater,
} from './canary-statistics.ts';
import type { WindowSample } from './window-stats.ts';

/** The share of requests a p99 allows to be slower than it. */
const P99_TAIL = 0.01;

/** The gates of one check. */
export interface GateCheck {
  readonly gates: readonly GateEvidence[];
  /** The gates that breached. */
  readonly breached: readonly GateEvidence[];
  /** Whether every gate had the data it needs (a gate still waiting blocks advancing). */
  readonly complete: boolean;
}

/**
 * Judges every gate on a step's samples. `stable` is undefined at a step that routes the stable
 * version no traffic (the last one): then only the gates on the canary alone apply.
 */
export function checkGates(options: {
  policy: CanaryPolicy;
  canary: WindowSample;
  stable: WindowSample | undefined;
}): GateCheck {
  const { policy, canary, stable } = options;
  const alpha = 1 - policy.confidence;
  const gates: GateEvidence[] = [];
  if (stable !== undefined) {
    gates.push(latencyGate({ policy, canary, stable, alpha }), errorRateGate({ policy, canary, stable, alpha }));
  }
  const limit = policy.gates.maxErrorRate;
  const errorsP = binomialUpperTail({ k: canary.errors, n: canary.requests, p: limit });
  gates.push({
    gate: 'max-error-rate',
    verdict: errorsP < alpha ? 'breach' : 'pass',
    test: 'binomial',
    pValue: errorsP,
    rate: canary.requests === 0 ? 0 : canary.errors / canary.requests,
    limit,
  });
  const maxP99Ms = policy.gates.maxP99Ms;
  if (maxP99Ms !== undefined) {
    const slower = canary.latencies.filter((l) => l > maxP99Ms).length;
    const sampled = canary.latencies.length;
    const p = binomialUpperTail({ k: slower, n: sampled, p: P99_TAIL });
    gates.push({
      gate: 'max-p99',
      verdict: p < alpha ? 'breach' : 'pass',
      test: 'binomial',
      pValue: p,
      slower,
      sampled,
      limitMs: maxP99Ms,
    });
  }
  if (policy.compareRate > 0) gates.push(disagreementGate({ policy, canary, alpha }));
  return {
    gates,
    breached: gates.filter((g) => g.verdict === 'breach'),
    complete: gates.every((g) => g.verdict !== 'waiting'),
  };
}

interface GateInput {
  readonly policy: CanaryPolicy;
  readonly canary: WindowSample;
  readonly stable: WindowSample;
  readonly alpha: number;
}

/** Is the canary slower than the stable version, significantly and by more than the minimum? */
function latencyGate({ policy, canary, stable, alpha }: GateInput): GateEvidence {
  const { minLatencyShiftMs: minShiftMs, minLatencyShiftRatio: minShiftRatio } = policy.gates;
  if (canary.latencies.length === 0 || stable.latencies.length === 0) {
    // Every request failed on one side: the error gates judge that; latency has nothing to say.
    return {
      gate: 'latency',
      verdict: 'waiting',
      test: 'mann-whitney',
      u: 0,
      z: 0,
      pValue: 1,
      shiftMs: 0,
      shiftRatio: 0,
      minShiftMs,
      minShiftRatio,
    };
  }
  const test = mannWhitneyGreater(canary.latencies, stable.latencies);
  const shiftMs = hodgesLehmannShift(canary.latencies, stable.latencies);
  const stableMedian = median(stable.latencies);
  const shiftRatio = stableMedian > 0 ? shiftMs / stableMedian : 0;
  const breach = test.pValue < alpha && shiftMs > minShiftMs && shiftRatio > minShiftRatio;
  return {
    gate: 'latency',
    verdict: breach ? 'breach' : 'pass',
    test: 'mann-whitney',
    u: test.u,
    z: test.z,
    pValue: test.pValue,
    shiftMs,
    shiftRatio,
    minShiftMs,
    minShiftRatio,
  };
}

/** Does the canary fail more often than the stable version, significantly and by more than the minimum? */
function errorRateGate({ policy, canary, stable, alpha }: GateInput): GateEvidence {
  const minIncrease = policy.gates.minErrorRateIncrease;
  const canaryRate = canary.errors / canary.requests;
  const stableRate = stable.errors / stable.requests;
  const test = proportionGreater({ x1: canary.errors, n1: canary.requests, x2: stable.errors, n2: stable.requests });
  const breach = test.pValue < alpha && canaryRate - stableRate > minIncrease;
  return {
    gate: 'error-rate',
    verdict: breach ? 'breach' : 'pass',
    test: test.test,
    ...(test.z !== undefined && { z: test.z }),
    pValue: test.pValue,
    canaryRate,
    stableRate,
    minIncrease,
  };
}

/** Do the canary's outputs disagree with the stable version's more often than the gate allows? */
function disagreementGate(options: { policy: CanaryPolicy; canary: WindowSample; alpha: number }): GateEvidence {
  const { policy, canary, alpha } = options;
  const needed = minimumComparisons(policy);
  const limit = policy.gates.maxDisagreement;
  const counts = { compared: canary.compared, disagreements: canary.disagreements, needed, limit };
  if (canary.compared < needed) return { gate: 'disagreement', verdict: 'waiting', test: 'binomial', ...counts };
  const p = binomialUpperTail({ k: canary.disagreements, n: canary.compared, p: limit });
  return { gate: 'disagreement', verdict: p < alpha ? 'breach' : 'pass', test: 'binomial', pValue: p, ...counts };
}

/** Comparisons needed before the disagreement gate can pass or fail a step. */
export function minimumComparisons(policy: CanaryPolicy): number {
  if (policy.compareRate === 0) return 0;
  return Math.max(5, Math.ceil(policy.minRequests * policy.compareRate * 0.5));
}
