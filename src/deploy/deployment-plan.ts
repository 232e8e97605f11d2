/**
 * What traffic of a deployment should follow now: its routes with aliases resolved, or the
 * stable/canary split of a running canary at its current step. Replicas apply it; the status
 * endpoint compares it with what a replica serves to say whether that replica has converged.
 */
import type { CanaryPolicy } from '../registry/deployment-spec.ts';
import type { Deployment, Registry } from '../registry/registry.ts';
import type { ModelConfig } from '../serving/model-config.ts';
import type { WeightedRoute } from './weighted-router.ts';

/** What traffic should follow: built by the deployment source from the stored deployment. */
export interface DeploymentPlan {
  readonly revision: number;
  readonly routes: readonly WeightedRoute[];
  readonly shadow?: { readonly version: number; readonly sampleRate: number };
  readonly sticky?: { readonly header?: string | undefined; readonly parameter?: string | undefined };
  readonly canary?: {
    readonly id: string;
    readonly step: number;
    readonly stable: number;
    readonly canary: number;
    readonly policy: CanaryPolicy;
  };
  /** Batching and instance settings of every version. */
  readonly serving: ModelConfig;
}

/** Builds the plan of a stored deployment. */
export async function planOf(
  registry: Pick<Registry, 'resolveRoutes'>,
  deployment: Deployment,
): Promise<DeploymentPlan> {
  const resolved = await registry.resolveRoutes(deployment);
  const canary = deployment.state.canary;
  const running = canary?.status === 'running' ? canary : undefined;
  const percent = running === undefined ? 0 : (running.policy.steps[running.step] ?? 100);
  const routes =
    running === undefined
      ? resolved.routes
      : [
          { version: running.stable, weight: 100 - percent },
          { version: running.canary, weight: percent },
        ];
  return {
    revision: deployment.revision,
    routes,
    serving: deployment.spec.serving,
    ...(resolved.shadow !== undefined && { shadow: resolved.shadow }),
    ...(deployment.spec.sticky !== undefined && { sticky: deployment.spec.sticky }),
    ...(running !== undefined && {
      canary: {
        id: running.id,
        step: running.step,
        stable: running.stable,
        canary: running.canary,
        policy: running.policy,
      },
    }),
  };
}

/** Whether a replica serving `served` has caught up with `desired`. */
export function planServes(served: DeploymentPlan | undefined, desired: DeploymentPlan): boolean {
  if (served === undefined) return false;
  return (
    JSON.stringify(served.routes) === JSON.stringify(desired.routes) &&
    served.shadow?.version === desired.shadow?.version &&
    JSON.stringify(served.serving) === JSON.stringify(desired.serving) &&
    served.canary?.id === desired.canary?.id &&
    served.canary?.step === desired.canary?.step
  );
}

/** Every version a plan needs loaded: its routes, its shadow, both sides of its canary. */
export function plannedVersions(plan: DeploymentPlan): Set<number> {
  const out = new Set(plan.routes.map((r) => r.version));
  if (plan.shadow) out.add(plan.shadow.version);
  if (plan.canary) {
    out.add(plan.canary.stable);
    out.add(plan.canary.canary);
  }
  return out;
}
