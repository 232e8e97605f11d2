/**
 * One deployment on this replica, wired from four parts: the plan applier (`plan-applier.ts`:
 * the versions it has loaded and the plan traffic follows), the router (`deployment-router.ts`:
 * which version answers a request), the side traffic (`side-traffic.ts`: canary windows,
 * shadow comparisons, recent requests recorded for warm-up) and the client usage recorder
 * (`client-usage-recorder.ts`: the input and output names clients use, which moves must keep).
 */
import type { RouteContext, InferTarget } from '../serving/model-source.ts';
import type { ModelVersion } from '../serving/model-version.ts';
import type { WarmupReport } from '../serving/warmup.ts';
import { createClientUsageRecorder, type NewClientUsage } from './client-usage-recorder.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import { routeRequest } from './deployment-router.ts';
import { createPlanApplier, type PlanApplierOptions } from './plan-applier.ts';
import { type CanaryWindow, createSideTraffic, type ShadowStats } from './side-traffic.ts';
import type { WeightedRoute } from './weighted-router.ts';
import type { WindowSnapshot } from './window-stats.ts';

/** This replica's view of a deployment. */
export interface DeploymentStatus {
  readonly name: string;
  readonly revision: number | undefined;
  readonly routes: readonly WeightedRoute[];
  readonly loadedVersions: readonly number[];
  /** What each loaded version's warm-up ran, by version; a failed warm-up does not stop it serving. */
  readonly warmup: Readonly<Record<string, WarmupReport>>;
  readonly loading: boolean;
  readonly lastError?: string;
  readonly canary?: { readonly key: string; readonly canary: WindowSnapshot; readonly stable: WindowSnapshot };
  readonly shadow: Readonly<ShadowStats>;
}

/** Options of {@link createDeploymentRuntime}: those of the plan applier but its hooks. */
export type DeploymentRuntimeOptions = Omit<PlanApplierOptions, 'afterWarmup' | 'onSwap'> & {
  /** Persists input and output names clients use for the first time. @default not recorded */
  readonly recordUsage?: (usage: NewClientUsage) => Promise<void>;
};

/** A deployment on this replica. */
export interface DeploymentRuntime {
  readonly name: string;
  /** The plan traffic follows now (undefined until the first one is loaded). */
  readonly active: DeploymentPlan | undefined;
  /** Loads what `plan` needs, then switches to it. Plans queued behind a running one collapse to the newest. */
  apply(plan: DeploymentPlan): Promise<void>;
  route(context: RouteContext): InferTarget;
  /** Resolves when no plan is being applied (whatever the outcome). */
  settled(): Promise<void>;
  /** Ready versions, ascending. */
  versions(): ModelVersion[];
  handle(version: number): ModelVersion | undefined;
  /** The canary window of the active step, if a canary is running. */
  canaryWindow(): CanaryWindow | undefined;
  status(): DeploymentStatus;
  /** Drains and unloads every version. */
  close(): Promise<void>;
}

/** Creates the runtime of one deployment. */
export function createDeploymentRuntime(options: DeploymentRuntimeOptions): DeploymentRuntime {
  const { name } = options;
  const side = createSideTraffic({
    name,
    metrics: options.metrics,
    logger: options.logger,
    ready: (version) => applier.ready(version),
  });
  const usage = createClientUsageRecorder({
    name,
    logger: options.logger,
    record: options.recordUsage ?? (() => Promise.resolve()),
  });
  const applier = createPlanApplier({
    ...options,
    // Zeros warm the kernels; recent live requests also warm the shapes traffic really has.
    afterWarmup: (handle) => side.replay(handle),
    onSwap: (plan) => side.follow(plan),
  });

  return {
    name,
    get active() {
      return applier.active;
    },
    apply: (plan) => applier.apply(plan),
    settled: () => applier.settled(),
    route: (context) => usage.watch(side.target(routeRequest(context, { name, applier }))),
    versions: () => applier.versions(),
    handle: (version) => applier.ready(version),
    canaryWindow: () => side.window(),

    status() {
      const active = applier.active;
      const window = side.window();
      const lastError = applier.lastError;
      return {
        name,
        revision: active?.revision,
        routes: active?.routes ?? [],
        loadedVersions: applier.versions().map((v) => Number(v.version)),
        warmup: applier.warmup(),
        loading: applier.applying,
        ...(lastError !== undefined && { lastError }),
        ...(window !== undefined && {
          canary: { key: window.key, canary: window.canary.snapshot(), stable: window.stable.snapshot() },
        }),
        shadow: side.shadow(),
      };
    },

    close: () => applier.close(),
  };
}
