/**
 * Judges one canary step from the windows of this replica, tick after tick: when a check is due,
 * how checks add up to a rollback, when the step may advance, and when it has waited too long.
 *
 * - A check is due once each version has `minRequests` requests, then each time it has
 *   `minRequests` more, or a quarter more, whichever is more (the canary alone at a step that
 *   routes the stable version nothing). Each check judges the whole step so far: evidence
 *   accumulates, and a transient blip is diluted by what follows.
 * - A rollback needs `consecutiveBreaches` breaching checks in a row (Flagger's and Argo
 *   Rollouts' rule): one unlucky check is not enough.
 * - The step advances once it has lasted `stepSeconds` and its latest check passed with every
 *   gate judged. With too little traffic it waits (one `canary-waiting` event halfway to the
 *   limit says what it lacks), and after `maxWaitSeconds` it aborts: it never advances on a
 *   guess.
 *
 * What it returns says which events to record: verdict changes and decisions, never every tick.
 */
import type { CanaryPolicy } from '../registry/deployment-spec.ts';
import { type CanaryEvidence, describeSamples, gateFinding, type SampleEvidence } from './canary-evidence.ts';
import { checkGates, type GateCheck, minimumComparisons } from './canary-gates.ts';
import { median } from './canary-statistics.ts';
import type { WindowSample, WindowStats } from './window-stats.ts';

/** Least growth of the evidence between two checks, as a share of what a version has. */
const CHECK_GROWTH = 0.25;

/** What the controller should do after a tick. */
export type StepDecision =
  | { readonly action: 'wait'; readonly event?: CheckEvent }
  | { readonly action: 'advance'; readonly summary: string; readonly evidence: CanaryEvidence }
  | { readonly action: 'rollback'; readonly reason: string; readonly evidence: CanaryEvidence }
  | { readonly action: 'abort'; readonly reason: string; readonly evidence: CanaryEvidence };

/** An event to record: a check's verdict changed (`canary-check`), or the step lacks traffic (`canary-waiting`). */
export interface CheckEvent {
  readonly kind: 'canary-check' | 'canary-waiting';
  readonly message: string;
  readonly evidence: CanaryEvidence;
}

/** The window of one version, as the judge reads it. */
export type JudgedWindow = Pick<WindowStats, 'requests' | 'compared' | 'sample'>;

/** Options of {@link createStepJudge}. */
export interface StepJudgeOptions {
  readonly canaryId: string;
  readonly policy: CanaryPolicy;
  /** Index into `policy.steps`. */
  readonly step: number;
  /** When this replica's window of the step opened (ms since the epoch). */
  readonly startedAt: number;
}

/** The judge of one step. */
export interface StepJudge {
  judge(windows: { canary: JudgedWindow; stable: JudgedWindow; now: number }): StepDecision;
}

/** The latest check and what it found. */
interface LastCheck {
  readonly gates: GateCheck;
  readonly evidence: CanaryEvidence;
}

/** Creates the judge of one step; a new step gets a new judge. */
export function createStepJudge(options: StepJudgeOptions): StepJudge {
  const { canaryId, policy, step, startedAt } = options;
  const percent = policy.steps[step] ?? 100;
  // At the last step all traffic is the canary's: there is no stable sample to compare with.
  const comparative = percent < 100;
  const label = `step ${step + 1}/${policy.steps.length} (${percent}%)`;
  let checks = 0;
  let streak = 0;
  /** Requests each version needs for the next check. */
  let dueAt = { canary: policy.minRequests, stable: policy.minRequests };
  let last: LastCheck | undefined;
  let waitingRecorded = false;

  function evidenceOf(options: {
    canary: WindowSample;
    stable: WindowSample | undefined;
    gates: GateCheck | undefined;
  }): CanaryEvidence {
    const { canary, stable, gates } = options;
    const verdict = gates === undefined ? 'waiting' : gates.breached.length > 0 ? 'breach' : 'pass';
    return {
      canaryId,
      step,
      percent,
      check: checks,
      verdict,
      breaches: streak,
      of: policy.consecutiveBreaches,
      confidence: policy.confidence,
      minRequests: policy.minRequests,
      canary: sampleEvidence(canary),
      stable: stable === undefined ? null : sampleEvidence(stable),
      gates: [...(gates?.gates ?? [])],
    };
  }

  /** Runs a check; returns a decision when it changes something. */
  function check(canary: WindowSample, stable: WindowSample | undefined): StepDecision | undefined {
    const gates = checkGates({ policy, canary, stable });
    checks++;
    dueAt = { canary: nextCheckAt(canary.requests, policy), stable: nextCheckAt(stable?.requests ?? 0, policy) };
    const hadStreak = streak > 0;
    streak = gates.breached.length > 0 ? streak + 1 : 0;
    const evidence = evidenceOf({ canary, stable, gates });
    last = { gates, evidence };
    if (streak >= policy.consecutiveBreaches) {
      const findings = gates.breached.map(gateFinding).join('; ');
      const times = streak === 1 ? 'at one check' : `on ${streak} consecutive checks`;
      return { action: 'rollback', reason: `${findings} (${label}, ${times}; ${describeSamples(evidence)})`, evidence };
    }
    if (streak > 0) {
      const names = gates.breached.map((g) => g.gate).join(', ');
      const message = `${label} check ${checks}: breach ${streak} of ${policy.consecutiveBreaches} (${names})`;
      return { action: 'wait', event: { kind: 'canary-check', message, evidence } };
    }
    if (hadStreak) {
      const message = `${label} check ${checks}: passed, the breach is cleared`;
      return { action: 'wait', event: { kind: 'canary-check', message, evidence } };
    }
    return undefined;
  }

  /** The stable version's sample, at a step that routes it traffic. */
  function sideOf(stable: JudgedWindow): WindowSample | undefined {
    return comparative ? stable.sample() : undefined;
  }

  /** What the step still lacks to be judged, in words. */
  function lacking(canary: JudgedWindow, stable: JudgedWindow): string {
    if (streak > 0) return `a breach (${streak} of ${policy.consecutiveBreaches}) is neither confirmed nor cleared`;
    const counts = comparative
      ? `canary ${canary.requests} of ${dueAt.canary} requests, stable ${stable.requests} of ${dueAt.stable}`
      : `canary ${canary.requests} of ${dueAt.canary} requests`;
    const waitingGates = last?.gates.gates.filter((g) => g.verdict === 'waiting').map(gateFinding) ?? [];
    return last === undefined || waitingGates.length === 0 ? `${counts} for a check` : waitingGates.join('; ');
  }

  return {
    judge({ canary, stable, now }) {
      const needed = minimumComparisons(policy);
      const countsDue = canary.requests >= dueAt.canary && (!comparative || stable.requests >= dueAt.stable);
      // Comparisons run in the background and trail the requests: a check that passed but
      // waited for them is made again as soon as they are in.
      const comparisonsIn =
        last !== undefined && streak === 0 && waitsOnlyForComparisons(last) && canary.compared >= needed;
      if (countsDue || comparisonsIn) {
        const decision = check(canary.sample(), sideOf(stable));
        if (decision !== undefined) return decision;
      }
      const elapsed = now - startedAt;
      const lasted = elapsed >= policy.stepSeconds * 1000;
      if (lasted && last !== undefined && streak === 0 && last.gates.complete) {
        return {
          action: 'advance',
          summary: `${label} passed ${checks} check${checks === 1 ? '' : 's'}`,
          evidence: last.evidence,
        };
      }
      const limitSeconds = Math.max(policy.stepSeconds, policy.maxWaitSeconds);
      // Halfway to the limit, one event says what the step lacks: before the abort, not at once.
      if (lasted && !waitingRecorded && elapsed >= (limitSeconds * 1000) / 2) {
        waitingRecorded = true;
        const evidence =
          last?.evidence ?? evidenceOf({ canary: canary.sample(), stable: sideOf(stable), gates: undefined });
        return {
          action: 'wait',
          event: {
            kind: 'canary-waiting',
            message: `${label} waiting for traffic: ${lacking(canary, stable)}; aborted if still so at ${limitSeconds} s`,
            evidence: { ...evidence, verdict: 'waiting' },
          },
        };
      }
      // The notice above always comes first, at an earlier tick.
      if (elapsed >= limitSeconds * 1000) {
        const evidence =
          last?.evidence ?? evidenceOf({ canary: canary.sample(), stable: sideOf(stable), gates: undefined });
        return {
          action: 'abort',
          reason: `${label} could not be judged within ${limitSeconds} s (maxWaitSeconds): ${lacking(canary, stable)}`,
          evidence: { ...evidence, verdict: 'waiting' },
        };
      }
      return { action: 'wait' };
    },
  };
}

/**
 * The requests a version needs for the next check: `minRequests` more, or a quarter more than it
 * has, whichever is more — so a busy step is checked a few dozen times, not thousands, and each
 * check brings a good share of new evidence.
 */
function nextCheckAt(requests: number, policy: CanaryPolicy): number {
  return requests + Math.max(policy.minRequests, Math.ceil(requests * CHECK_GROWTH));
}

/** Whether a check lacked nothing but comparisons with the stable version. */
function waitsOnlyForComparisons(last: LastCheck): boolean {
  const waiting = last.gates.gates.filter((g) => g.verdict === 'waiting');
  return waiting.length > 0 && waiting.every((g) => g.gate === 'disagreement');
}

function sampleEvidence(sample: WindowSample): SampleEvidence {
  return {
    requests: sample.requests,
    errors: sample.errors,
    latencies: sample.latencies.length,
    ...(sample.latencies.length > 0 && { medianMs: median(sample.latencies) }),
  };
}
