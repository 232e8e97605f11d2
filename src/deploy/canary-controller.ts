/**
 * Drives the running canaries of this replica's deployments from what this replica observes: on
 * every tick, each canary step's windows are judged (`canary-judge.ts`) and the step is advanced,
 * rolled back or aborted in the registry, or a change of verdict is recorded as an event with its
 * evidence. Replicas share nothing but the store: a decision is a compare-and-set on the
 * deployment's revision, so when two replicas decide at once exactly one decision lands, and the
 * other's is dropped.
 */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { Registry } from '../registry/registry.ts';
import { createStepJudge, type StepDecision, type StepJudge } from './canary-judge.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { DeploymentRuntime } from './deployment-runtime.ts';

/** Options of {@link createCanaryController}. */
export interface CanaryControllerOptions {
  readonly registry: Pick<Registry, 'advanceCanary' | 'rollbackCanary' | 'appendDeploymentEvent'>;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** Who decided, in the deployment's events (`rollout-controller@<replica>`). */
  readonly by: string;
  /** The deployments of this replica now. */
  readonly runtimes: () => Iterable<Pick<DeploymentRuntime, 'name' | 'active' | 'canaryWindow'>>;
  /** Called after every decision that was tried (landed or not): the plans must be read again. */
  readonly afterDecision: () => void;
}

/** Judges the running canaries; {@link CanaryController.tick} is called on a timer. */
export interface CanaryController {
  /** Starts a decision for every running canary that has none in flight; resolves when they are done. */
  tick(): Promise<void>;
}

type RunningCanary = NonNullable<DeploymentPlan['canary']>;

/** Creates the controller. */
export function createCanaryController(options: CanaryControllerOptions): CanaryController {
  const { registry, metrics, logger, by } = options;
  const deciding = new Set<string>();
  /** The judge of each deployment's current step, by the step's window key. */
  const judges = new Map<string, { key: string; judge: StepJudge }>();

  function judgeOf(name: string, window: { key: string; startedAt: number }, canary: RunningCanary): StepJudge {
    const current = judges.get(name);
    if (current?.key === window.key) return current.judge;
    const judge = createStepJudge({
      canaryId: canary.id,
      policy: canary.policy,
      step: canary.step,
      startedAt: window.startedAt,
    });
    judges.set(name, { key: window.key, judge });
    return judge;
  }

  async function decide(runtime: Pick<DeploymentRuntime, 'name' | 'active' | 'canaryWindow'>): Promise<void> {
    const canary = runtime.active?.canary;
    const window = runtime.canaryWindow();
    if (canary === undefined || window === undefined) return;
    const judge = judgeOf(runtime.name, { key: window.key, startedAt: window.canary.startedAt }, canary);
    const decision = judge.judge({ canary: window.canary, stable: window.stable, now: Date.now() });
    if (decision.action === 'wait') {
      if (decision.event !== undefined) await record({ name: runtime.name, canary, event: decision.event });
      return;
    }
    try {
      await apply({ name: runtime.name, canary, decision });
    } catch (error) {
      // Another replica moved the rollout first: its decision stands.
      if (error instanceof StratumError && ['PRECONDITION_FAILED', 'ROLLOUT_CONFLICT'].includes(error.code)) return;
      throw error;
    } finally {
      options.afterDecision();
    }
  }

  async function record(options: {
    name: string;
    canary: RunningCanary;
    event: NonNullable<Extract<StepDecision, { action: 'wait' }>['event']>;
  }): Promise<void> {
    const { name, canary, event } = options;
    await registry.appendDeploymentEvent({
      deployment: name,
      kind: event.kind,
      message: `canary version ${canary.canary}: ${event.message}`,
      detail: { evidence: event.evidence },
      by,
    });
    logger.info({ deployment: name, step: canary.step, message: event.message }, event.kind);
  }

  async function apply(options: {
    name: string;
    canary: RunningCanary;
    decision: Exclude<StepDecision, { action: 'wait' }>;
  }): Promise<void> {
    const { name, canary, decision } = options;
    const target = { name, canaryId: canary.id, by, evidence: decision.evidence };
    if (decision.action === 'advance') {
      await registry.advanceCanary({ ...target, step: canary.step, summary: decision.summary });
      metrics.rollout({ deployment: name, kind: 'canary-step' });
      logger.info({ deployment: name, step: canary.step, summary: decision.summary }, 'canary step passed');
    } else if (decision.action === 'rollback') {
      await registry.rollbackCanary({ ...target, reason: decision.reason });
      metrics.rollout({ deployment: name, kind: 'canary-rolled-back' });
      logger.warn({ deployment: name, reason: decision.reason }, 'canary rolled back');
    } else {
      await registry.rollbackCanary({ ...target, reason: decision.reason, status: 'aborted' });
      metrics.rollout({ deployment: name, kind: 'canary-aborted' });
      logger.warn({ deployment: name, reason: decision.reason }, 'canary aborted');
    }
  }

  return {
    async tick() {
      const started: Promise<void>[] = [];
      const running = new Set<string>();
      for (const runtime of options.runtimes()) {
        if (runtime.active?.canary === undefined) continue;
        running.add(runtime.name);
        if (deciding.has(runtime.name)) continue;
        deciding.add(runtime.name);
        started.push(
          decide(runtime)
            .catch((error: unknown) =>
              logger.warn({ deployment: runtime.name, reason: (error as Error).message }, 'canary decision failed'),
            )
            .finally(() => deciding.delete(runtime.name)),
        );
      }
      for (const name of judges.keys()) if (!running.has(name)) judges.delete(name);
      await Promise.all(started);
    },
  };
}
