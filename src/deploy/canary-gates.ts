/**
 * The canary decision for one step, from what this replica saw of it: roll back when a gate is
 * breached (only once there are enough requests to judge), advance when the step has lasted long
 * enough with enough requests and every gate holds, otherwise wait.
 */
import type { CanaryPolicy } from '../registry/deployment-spec.ts';
import type { WindowSnapshot } from './window-stats.ts';

/** What to do with the canary. */
export type CanaryDecision =
  | { readonly action: 'wait' }
  | { readonly action: 'advance'; readonly summary: string }
  | { readonly action: 'rollback'; readonly reason: string };

/** Sub-millisecond p99 noise must not fail a latency gate. */
export const P99_SLACK_MS = 1;

/**
 * Latencies a window needs before its p99 is compared with another's: with fewer, the "p99" is
 * just the slowest request, and one slow request would fail the step.
 */
export const MIN_LATENCY_SAMPLES = 50;

/**
 * Evaluates a step. `stableP99Ms` is the stable version's p99 under routed traffic (this step's,
 * or an earlier step's when this one routes it too little), undefined when there is none.
 */
export function evaluateCanary(options: {
  policy: CanaryPolicy;
  canary: WindowSnapshot;
  stableP99Ms: number | undefined;
  now: number;
}): CanaryDecision {
  const { policy, canary, stableP99Ms } = options;
  const gates = policy.gates;
  if (canary.requests < policy.minRequests) return { action: 'wait' };
  const errorRate = canary.errors / canary.requests;
  if (errorRate > gates.maxErrorRate) {
    return {
      action: 'rollback',
      reason: `error rate ${pct(errorRate)} over ${canary.requests} requests is above the gate of ${pct(gates.maxErrorRate)}`,
    };
  }
  const p99 = canary.p99Ms;
  if (p99 !== undefined && gates.maxP99Ms !== undefined && p99 > gates.maxP99Ms) {
    return { action: 'rollback', reason: `p99 ${ms(p99)} is above the gate of ${ms(gates.maxP99Ms)}` };
  }
  if (
    p99 !== undefined &&
    stableP99Ms !== undefined &&
    canary.requests >= MIN_LATENCY_SAMPLES &&
    p99 > gates.maxP99Ratio * stableP99Ms + P99_SLACK_MS
  ) {
    return {
      action: 'rollback',
      reason: `p99 ${ms(p99)} is above ${gates.maxP99Ratio}× the stable version's ${ms(stableP99Ms)} (+${P99_SLACK_MS} ms)`,
    };
  }
  const minCompared = minimumComparisons(policy);
  if (canary.compared >= minCompared && canary.compared > 0) {
    const disagreement = canary.disagreements / canary.compared;
    if (disagreement > gates.maxDisagreement) {
      return {
        action: 'rollback',
        reason: `outputs disagree with the stable version on ${pct(disagreement)} of ${canary.compared} compared requests (gate ${pct(gates.maxDisagreement)})`,
      };
    }
  }
  const lasted = options.now - canary.startedAt >= policy.stepSeconds * 1000;
  if (!lasted || canary.compared < minCompared) return { action: 'wait' };
  return {
    action: 'advance',
    summary: `${canary.requests} requests, error rate ${pct(errorRate)}, p99 ${p99 === undefined ? 'n/a' : ms(p99)}, disagreement ${canary.compared === 0 ? 'n/a' : pct(canary.disagreements / canary.compared)}`,
  };
}

/** Comparisons needed before the disagreement gate can pass or fail a step. */
export function minimumComparisons(policy: CanaryPolicy): number {
  if (policy.compareRate === 0) return 0;
  return Math.max(5, Math.ceil(policy.minRequests * policy.compareRate * 0.5));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function ms(x: number): string {
  return `${x.toFixed(2)} ms`;
}
