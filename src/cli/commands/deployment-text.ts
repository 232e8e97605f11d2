/**
 * How deployments read in the CLI's human output: routes, a canary's progress with its live
 * window, a replica's status, and the evidence of canary checks in the events. Shared by
 * `stratum deploy` and its rollout subcommands.
 */
import type { DeploymentStatusReply } from '../../client/api-client.ts';
import {
  type CanaryEvidence,
  CanaryEvidenceSchema,
  describeGate,
  describeSamples,
} from '../../deploy/canary-evidence.ts';
import type { CanaryState } from '../../registry/deployment-spec.ts';
import type { WindowSnapshot } from '../../deploy/window-stats.ts';
import { warmupFailure } from '../../serving/warmup.ts';
import type { DeploymentEvent } from '../../store/metadata-store.ts';

/** `version 2 90%, alias production 10%`. */
export function describeRoutes(
  routes: readonly { readonly version?: number | undefined; readonly alias?: string | undefined; weight: number }[],
): string {
  return routes
    .map((r) => `${r.version !== undefined ? `version ${r.version}` : `alias ${r.alias}`} ${r.weight}%`)
    .join(', ');
}

/** `canary v3 vs v2, step 1/2 (50% of traffic), running`. */
export function describeCanary(canary: CanaryState): string {
  const steps = canary.policy.steps;
  const percent = steps[canary.step] ?? 100;
  const status =
    canary.status === 'running'
      ? 'running'
      : `${canary.status.replace('_', ' ')}${canary.reason === undefined ? '' : `: ${canary.reason}`}`;
  return `canary v${canary.canary} vs v${canary.stable}, step ${canary.step + 1}/${steps.length} (${percent}% of traffic), ${status}`;
}

function describeWindow(w: WindowSnapshot): string {
  const p99 = w.p99Ms === undefined ? 'n/a' : `${w.p99Ms.toFixed(2)} ms`;
  const median = w.medianMs === undefined ? '' : `, median ${w.medianMs.toFixed(2)} ms`;
  const disagreement = w.compared === 0 ? '' : `, disagree ${w.disagreements}/${w.compared}`;
  return `${w.requests} req, ${w.errors} err, p99 ${p99}${median}${disagreement}`;
}

/**
 * The message column of `stratum deploy events`: the event's message and, for a canary check or
 * decision, its evidence under it — the samples, then each gate's test and verdict, one a line.
 */
export function describeEvent(event: Pick<DeploymentEvent, 'message' | 'detail'>): string {
  const evidence = evidenceOf(event.detail);
  if (evidence === undefined) return event.message;
  const streak = evidence.breaches === 0 ? '' : `, breach ${evidence.breaches} of ${evidence.of}`;
  const head = `${describeSamples(evidence)}; check ${evidence.check}${streak}, confidence ${evidence.confidence}`;
  return [event.message, head, ...evidence.gates.map(describeGate)].join('\n    ');
}

/** The evidence an event's detail carries, if it carries one this CLI can read. */
function evidenceOf(detail: unknown): CanaryEvidence | undefined {
  if (typeof detail !== 'object' || detail === null || !('evidence' in detail)) return undefined;
  const parsed = CanaryEvidenceSchema.safeParse(detail.evidence);
  return parsed.success ? parsed.data : undefined;
}

/** This replica's live window of the running canary step, when it has one. */
export function describeCanaryWindow(status: DeploymentStatusReply): string | undefined {
  const window = status.replica?.canary;
  if (window === undefined) return undefined;
  return `canary ${describeWindow(window.canary)} · stable ${describeWindow(window.stable)}`;
}

/** One progress line of a canary: where it stands and what this replica measured. */
export function canaryProgress(status: DeploymentStatusReply): string {
  const canary = status.canary ?? undefined;
  const head = canary === undefined ? 'no canary' : describeCanary(canary);
  const window = describeCanaryWindow(status);
  return window === undefined ? head : `${head} · ${window}`;
}

/**
 * What a canary's progress line is about, without its counters: its status, its step, and whether
 * this replica measures it yet. A new stage is a new line in a log.
 */
export function canaryStage(status: DeploymentStatusReply): string {
  const canary = status.canary ?? undefined;
  if (canary === undefined) return 'none';
  return `${canary.id} ${canary.status} ${canary.step} ${status.replica?.canary === undefined ? 'waiting' : 'measured'}`;
}

/** The human rendering of `stratum deploy status`. */
export function statusText(status: DeploymentStatusReply): string {
  const lines: string[] = [];
  const served = status.servedRevision === null ? 'nothing yet' : `revision ${status.servedRevision}`;
  lines.push(
    `deployment ${status.name}: revision ${status.revision}; this replica serves ${served} (${status.converged ? 'converged' : 'not converged'})`,
  );
  lines.push(`desired routes: ${describeRoutes(status.desiredRoutes)}`);
  const replica = status.replica;
  if (replica !== null) {
    lines.push(`serving routes: ${describeRoutes(replica.routes)}`);
    const loaded = replica.loadedVersions.length === 0 ? 'none' : replica.loadedVersions.join(', ');
    lines.push(`loaded versions: ${loaded}${replica.loading ? ' (loading)' : ''}`);
    for (const version of replica.loadedVersions) {
      const warmup = replica.warmup[String(version)];
      const failure = warmup === undefined ? undefined : warmupFailure(warmup);
      if (failure !== undefined) lines.push(`version ${version}: ${failure}`);
    }
    if (replica.lastError !== undefined) lines.push(`last load error: ${replica.lastError}`);
  }
  if (status.canary) lines.push(describeCanary(status.canary));
  const window = describeCanaryWindow(status);
  if (window !== undefined) lines.push(`  window: ${window}`);
  const shadow = replica?.shadow;
  if (shadow?.version !== undefined) {
    lines.push(
      `shadow v${shadow.version}: ${shadow.copied} copied, ${shadow.agreed} agreed, ${shadow.disagreed} disagreed, ${shadow.failed} failed, ${shadow.dropped} dropped, max |diff| ${shadow.maxAbsDiff}`,
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}
