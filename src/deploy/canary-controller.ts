/**
 * Drives the running canaries of this replica's deployments from what this replica observes: on
 * every tick, each canary's window is judged by its gates (`canary-gates.ts`) and the step is
 * advanced or rolled back in the registry. Replicas share nothing but the store: a decision is a
 * compare-and-set on the deployment's revision, so when two replicas decide at once exactly one
 * decision lands, and the other's is dropped.
 */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { Registry } from '../registry/registry.ts';
import { evaluateCanary, MIN_LATENCY_SAMPLES } from './canary-gates.ts';
import type { DeploymentRuntime } from './deployment-runtime.ts';

/** Options of {@link createCanaryController}. */
export interface CanaryControllerOptions {
  readonly registry: Pick<Registry, 'advanceCanary' | 'rollbackCanary'>;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** Who decided, in the deployment's events (`rollout-controller@<replica>`). */
  readonly by: string;
  /** The deployments of this replica now. */
  readonly runtimes: () => Iterable<DeploymentRuntime>;
  /** Called after every decision that was tried (landed or not): the plans must be read again. */
  readonly afterDecision: () => void;
}

/** Judges the running canaries; {@link CanaryController.tick} is called on a timer. */
export interface CanaryController {
  /** Starts a decision for every running canary that has none in flight. */
  tick(): void;
}

/** Creates the controller. */
export function createCanaryController(options: CanaryControllerOptions): CanaryController {
  const { registry, metrics, logger, by } = options;
  const deciding = new Set<string>();

  async function decide(runtime: DeploymentRuntime): Promise<void> {
    const plan = runtime.active;
    const canary = plan?.canary;
    const window = runtime.canaryWindow();
    if (plan === undefined || canary === undefined || window === undefined) return;
    const stableNow = window.stable.snapshot();
    // The ratio gate needs both versions serving routed traffic side by side; at a step that
    // routes the stable version too little (the last one), only the absolute gate applies.
    const stableP99Ms = stableNow.requests >= MIN_LATENCY_SAMPLES ? stableNow.p99Ms : undefined;
    const decision = evaluateCanary({
      policy: canary.policy,
      canary: window.canary.snapshot(),
      stableP99Ms,
      now: Date.now(),
    });
    if (decision.action === 'wait') return;
    try {
      if (decision.action === 'advance') {
        await registry.advanceCanary({ name: runtime.name, canaryId: canary.id, step: canary.step, by });
        metrics.rollout({ deployment: runtime.name, kind: 'canary-step' });
        logger.info({ deployment: runtime.name, step: canary.step, summary: decision.summary }, 'canary step passed');
      } else {
        await registry.rollbackCanary({ name: runtime.name, canaryId: canary.id, reason: decision.reason, by });
        metrics.rollout({ deployment: runtime.name, kind: 'canary-rolled-back' });
        logger.warn({ deployment: runtime.name, reason: decision.reason }, 'canary rolled back');
      }
    } catch (error) {
      // Another replica moved the rollout first: its decision stands.
      if (error instanceof StratumError && ['PRECONDITION_FAILED', 'ROLLOUT_CONFLICT'].includes(error.code)) return;
      throw error;
    } finally {
      options.afterDecision();
    }
  }

  return {
    tick() {
      for (const runtime of options.runtimes()) {
        if (runtime.active?.canary === undefined || deciding.has(runtime.name)) continue;
        deciding.add(runtime.name);
        decide(runtime)
          .catch((error: unknown) =>
            logger.warn({ deployment: runtime.name, reason: (error as Error).message }, 'canary decision failed'),
          )
          .finally(() => deciding.delete(runtime.name));
      }
    },
  };
}
