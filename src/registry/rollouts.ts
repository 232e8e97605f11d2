/**
 * The rollout state machine of a deployment: a blue-green switch (immediate), or a canary that
 * runs through its traffic steps (`running` → `promoted` after the last step, or → `rolled_back` /
 * `aborted`). The rollout controller on each replica drives a running canary with
 * {@link Rollouts.advanceCanary} and {@link Rollouts.rollbackCanary}; every transition is a
 * conditional write at the revision it was decided on, so two replicas never both apply it.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../errors/index.ts';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import {
  CanaryPolicySchema,
  type CanaryState,
  type DeploymentSpec,
  type RolloutRequest,
  RolloutRequestSchema,
} from './deployment-spec.ts';
import type { Deployment, DeploymentRules } from './deployment-rules.ts';
import { describeOutcome, type FitOutcome, type Override, outcomeDetail } from './signature-check.ts';
import { withoutUndefined } from '../util/without-undefined.ts';

/** Starts, advances and ends rollouts. */
export interface Rollouts {
  /** Starts a blue-green switch (immediate) or a canary (driven by the rollout controller). */
  startRollout(options: { name: string; request: unknown; by: string; expectedRevision?: number }): Promise<Deployment>;
  /**
   * Moves a running canary to its next step, or promotes it after the last one. `summary` and
   * `evidence` (what the step's checks found) go into the event.
   */
  advanceCanary(options: {
    name: string;
    canaryId: string;
    step: number;
    by: string;
    summary?: string;
    evidence?: unknown;
  }): Promise<Deployment>;
  /** Ends a running canary and sends all traffic back to the stable version. */
  rollbackCanary(options: {
    name: string;
    canaryId: string;
    reason: string;
    by: string;
    status?: 'rolled_back' | 'aborted';
    /** What the checks found (recorded in the event's detail). */
    evidence?: unknown;
  }): Promise<Deployment>;
}

/** Creates the state machine over the shared deployment rules. */
export function createRollouts(rules: DeploymentRules): Rollouts {
  return {
    startRollout: (options) => startRollout(rules, options),
    advanceCanary: (options) => advanceCanary(rules, options),
    rollbackCanary: (options) => rollbackCanary(rules, options),
  };
}

/** Starts a rollout (see {@link Rollouts.startRollout}). */
async function startRollout(
  rules: DeploymentRules,
  { name, request: raw, by, expectedRevision }: Parameters<Rollouts['startRollout']>[0],
): Promise<Deployment> {
  const parsed = RolloutRequestSchema.safeParse(raw, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid rollout for "${name}": ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const request: RolloutRequest = parsed.data;
  const current = await rules.read(name);
  if (current.state.canary?.status === 'running') {
    throw new StratumError(
      'ROLLOUT_CONFLICT',
      `deployment "${name}" already has a canary running (${current.state.canary.stable} → ${current.state.canary.canary})`,
    );
  }
  const target = await rules.resolveTarget(current.spec.model, request);
  const stable = await rules.currentPrimary(current);
  const override: Override = { force: request.force, reason: request.reason };
  const outcome = await rules.checkFit({
    model: current.spec.model,
    reference: stable,
    versions: [target],
    deployment: current,
    what: `rollout of version ${target} on "${name}"`,
    override,
  });
  const step = {
    current,
    stable,
    target,
    by,
    revision: expectedRevision ?? current.revision,
    reason: (request.reason ? ` (${request.reason})` : '') + describeOutcome(outcome, override),
    override,
    outcome,
  };
  return request.strategy === 'blue-green' ? switchBlueGreen(rules, step) : startCanary(rules, { ...step, request });
}

/** Moves a running canary on (see {@link Rollouts.advanceCanary}). */
async function advanceCanary(
  rules: DeploymentRules,
  { name, canaryId, step, by, summary, evidence }: Parameters<Rollouts['advanceCanary']>[0],
): Promise<Deployment> {
  const current = await rules.read(name);
  const canary = runningCanary(current, canaryId);
  if (canary.step !== step) {
    throw new StratumError('PRECONDITION_FAILED', `canary ${canaryId} on "${name}" is no longer at step ${step}`);
  }
  const passed = { summary, evidence };
  if (canary.step >= canary.policy.steps.length - 1) return promote(rules, { current, canary, by, passed });
  const next: CanaryState = { ...canary, step: canary.step + 1, stepStartedAt: Date.now() };
  return rules.write({
    name,
    spec: current.spec,
    state: { ...current.state, canary: next },
    by,
    expectedRevision: current.revision,
    event: {
      kind: 'canary-step',
      message: `canary version ${canary.canary} advanced to ${canary.policy.steps[next.step]}% of traffic${summary === undefined ? '' : ` (${summary})`}`,
      detail: { step: next.step, percent: canary.policy.steps[next.step], ...(evidence !== undefined && { evidence }) },
    },
  });
}

/** Ends a running canary (see {@link Rollouts.rollbackCanary}). */
async function rollbackCanary(
  rules: DeploymentRules,
  { name, canaryId, reason, by, status = 'rolled_back', evidence }: Parameters<Rollouts['rollbackCanary']>[0],
): Promise<Deployment> {
  const current = await rules.read(name);
  const canary = runningCanary(current, canaryId);
  const ended: CanaryState = { ...canary, status, reason, finishedAt: Date.now() };
  return rules.write({
    name,
    spec: routedTo(current.spec, { version: canary.stable, alias: canary.alias }),
    state: { ...current.state, canary: ended },
    by,
    expectedRevision: current.revision,
    event: {
      kind: status === 'aborted' ? 'canary-aborted' : 'canary-rolled-back',
      message: `canary version ${canary.canary} ${status === 'aborted' ? 'aborted' : 'rolled back'}: ${reason}; all traffic on version ${canary.stable}`,
      detail: { canary: ended, ...(evidence !== undefined && { evidence }) },
    },
  });
}

/** A rollout about to happen: from the deployment's stable version to `target`. */
interface RolloutStep {
  current: Deployment;
  stable: number;
  target: number;
  by: string;
  revision: number;
  /** Appended to event messages (e.g. ` (reason: …)`), or empty. */
  reason: string;
  override: Override;
  /** What the signature check let through (recorded in the event). */
  outcome: FitOutcome;
}

/** A blue-green switch: all traffic to `target` now (through the alias, when the deployment follows one). */
async function switchBlueGreen(rules: DeploymentRules, options: RolloutStep): Promise<Deployment> {
  const { current, stable, target, by, revision, reason, override, outcome } = options;
  const name = current.name;
  const alias = aliasRouteOf(current.spec);
  const event = {
    kind: 'blue-green',
    message: `blue-green switch from version ${stable} to version ${target}${alias ? ` (alias "${alias}" moved)` : ''}${reason}`,
    detail: {
      from: stable,
      to: target,
      ...(alias !== undefined && { alias }),
      ...outcomeDetail(outcome, override),
    },
  };
  if (alias === undefined) {
    const spec: DeploymentSpec = { ...current.spec, routes: [{ version: target, weight: 100 }] };
    return rules.write({ name, spec, state: current.state, by, expectedRevision: revision, event });
  }
  // A deployment that follows an alias keeps following it: the switch moves the alias.
  const recorded = await rules.write({
    name,
    spec: current.spec,
    state: current.state,
    by,
    expectedRevision: revision,
    event,
  });
  await rules.setAlias({
    model: current.spec.model,
    alias,
    version: target,
    by,
    reason: `blue-green switch on deployment "${name}"${override.reason ? ` (${override.reason})` : ''}`,
    ...(override.force === true && { force: true }),
    via: name,
  });
  return recorded;
}

/** Starts a canary of `target` against the stable version, at its first step. */
async function startCanary(
  rules: DeploymentRules,
  options: RolloutStep & { request: RolloutRequest },
): Promise<Deployment> {
  const { current, request, stable, target, by, revision, reason, override, outcome } = options;
  if (target === stable) {
    throw new StratumError('ROLLOUT_CONFLICT', `version ${target} is already the stable version of "${current.name}"`);
  }
  const overrides = request.canary ?? {};
  const policy = CanaryPolicySchema.parse({
    ...current.spec.canary,
    ...withoutUndefined(overrides),
    gates: { ...current.spec.canary.gates, ...withoutUndefined(overrides.gates ?? {}) },
  });
  const now = Date.now();
  const alias = aliasRouteOf(current.spec);
  const canary: CanaryState = {
    id: randomUUID(),
    status: 'running',
    stable,
    canary: target,
    policy,
    step: 0,
    stepStartedAt: now,
    startedAt: now,
    startedBy: by,
    ...(alias !== undefined && { alias }),
    ...(outcome.forced.length > 0 && { forcedReason: override.reason ?? '' }),
  };
  return rules.write({
    name: current.name,
    // A deployment that follows an alias keeps following it; promotion moves the alias.
    spec: routedTo(current.spec, { version: stable, alias: canary.alias }),
    state: { ...current.state, canary },
    by,
    expectedRevision: revision,
    event: {
      kind: 'canary-started',
      message: `canary of version ${target} against version ${stable}: steps ${policy.steps.join('% → ')}%${reason}`,
      detail: { canary, ...outcomeDetail(outcome, override) },
    },
  });
}

/** Ends a canary that passed its last step: its version becomes the stable one. */
async function promote(
  rules: DeploymentRules,
  options: {
    current: Deployment;
    canary: CanaryState;
    by: string;
    passed: { summary: string | undefined; evidence: unknown };
  },
): Promise<Deployment> {
  const { current, canary, by, passed } = options;
  const promoted: CanaryState = { ...canary, status: 'promoted', finishedAt: Date.now() };
  if (canary.alias !== undefined) {
    // The alias moves while the canary still runs (its split overrides the routes), so
    // traffic goes from 100% canary straight to the alias, never back to the stable version.
    await rules.setAlias({
      model: current.spec.model,
      alias: canary.alias,
      version: canary.canary,
      by,
      reason: `canary promoted on deployment "${current.name}"${canary.forcedReason === undefined ? '' : ` (forced at its start: ${canary.forcedReason})`}`,
      // A canary forced past the signature check at its start is promoted the same way.
      ...(canary.forcedReason !== undefined && { force: true }),
      via: current.name,
    });
  }
  return rules.write({
    name: current.name,
    spec: routedTo(current.spec, { version: canary.canary, alias: canary.alias }),
    state: { ...current.state, canary: promoted },
    by,
    expectedRevision: current.revision,
    event: {
      kind: 'canary-promoted',
      message: `canary version ${canary.canary} passed every step and is now stable (was ${canary.stable})${passed.summary === undefined ? '' : `; ${passed.summary}`}`,
      detail: { canary: promoted, ...(passed.evidence !== undefined && { evidence: passed.evidence }) },
    },
  });
}

function runningCanary(deployment: Deployment, canaryId: string): CanaryState {
  const canary = deployment.state.canary;
  if (canary === undefined || canary.status !== 'running' || canary.id !== canaryId) {
    throw new StratumError('ROLLOUT_CONFLICT', `deployment "${deployment.name}" has no running canary ${canaryId}`);
  }
  return canary;
}

/** The alias a deployment follows when all its traffic goes through one alias. */
function aliasRouteOf(spec: DeploymentSpec): string | undefined {
  const only = spec.routes.length === 1 ? spec.routes[0] : undefined;
  return only?.alias;
}

/**
 * The spec after a rollout settles on `version`: a deployment that follows an alias keeps its
 * routes (the alias is what moves); any other routes all its traffic to the version.
 */
function routedTo(spec: DeploymentSpec, target: { version: number; alias: string | undefined }): DeploymentSpec {
  return target.alias !== undefined ? spec : { ...spec, routes: [{ version: target.version, weight: 100 }] };
}
