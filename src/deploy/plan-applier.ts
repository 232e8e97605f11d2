/**
 * Applying a deployment's plans on this replica. A new plan never interrupts traffic: the versions
 * it needs are loaded and warmed while the old plan keeps serving, the plan is swapped in in one
 * step, then the versions it no longer needs drain their queues and unload (the sequence itself is
 * `src/serving/version-table.ts`, shared with the folder repository). A plan that fails to load
 * leaves the previous one serving. Plans queued behind a running load collapse to the newest.
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { resolveModelConfig } from '../serving/model-config.ts';
import type { ModelVersion } from '../serving/model-version.ts';
import type { InferRequest } from '../serving/types.ts';
import { createVersionTable, type VersionLoad } from '../serving/version-table.ts';
import type { WarmupReport, WarmupRequests } from '../serving/warmup.ts';
import { type DeploymentPlan, plannedVersions } from './deployment-plan.ts';

/** Options of {@link createPlanApplier}. */
export interface PlanApplierOptions {
  /** The deployment's name: the model name requests address. */
  readonly name: string;
  readonly config: Readonly<Config>;
  readonly pool: RuntimePool;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** The verified ONNX bytes of a version of the deployment's model. */
  readonly readVersion: (version: number) => Promise<Uint8Array>;
  /**
   * Sample requests stored with a version (the rows a training run registered it with), which
   * warm it up instead of synthetic inputs; undefined when it has none.
   * @default none: every version warms up with synthetic inputs
   */
  readonly readSamples?: (version: number) => Promise<readonly InferRequest[] | undefined>;
  /** A number unique in this process, for pool keys. */
  readonly nextGeneration: () => number;
  /**
   * Runs on each version once warmed, before it takes traffic (recent live requests replayed).
   * @default none
   */
  readonly afterWarmup?: (handle: ModelVersion) => Promise<void>;
  /**
   * Runs in the same step as the swap to a new plan, so that what watches traffic follows it.
   * @default none
   */
  readonly onSwap?: (plan: DeploymentPlan) => void;
}

/** The plans and loaded versions of one deployment. */
export interface PlanApplier {
  /** The plan traffic follows now (undefined until the first one is loaded). */
  readonly active: DeploymentPlan | undefined;
  /** Whether a plan is being applied. */
  readonly applying: boolean;
  /** Why the last plan failed to load, until one loads. */
  readonly lastError: string | undefined;
  /** Loads what `plan` needs, then switches to it. Plans queued behind a running one collapse to the newest. */
  apply(plan: DeploymentPlan): Promise<void>;
  /** Resolves when no plan is being applied (whatever the outcome). */
  settled(): Promise<void>;
  /** A ready version. */
  ready(version: number): ModelVersion | undefined;
  /** Ready versions, ascending. */
  versions(): ModelVersion[];
  /** What each ready version's warm-up ran, by version. */
  warmup(): Record<string, WarmupReport>;
  /** Drains and unloads every version. */
  close(): Promise<void>;
}

/** Creates the applier of one deployment. */
export function createPlanApplier(options: PlanApplierOptions): PlanApplier {
  const { name, config, logger } = options;
  const table = createVersionTable<number>({
    model: name,
    pool: options.pool,
    metrics: options.metrics,
    logger,
    logFields: { deployment: name },
    keyPrefix: 'deployment/',
    nextGeneration: options.nextGeneration,
    ...(options.afterWarmup !== undefined && { afterWarmup: options.afterWarmup }),
  });
  let active: DeploymentPlan | undefined;
  let queued: DeploymentPlan | undefined;
  let applying: Promise<void> | undefined;
  let lastError: string | undefined;
  let closed = false;

  async function readSamples(version: number): Promise<WarmupRequests | undefined> {
    try {
      const requests = await options.readSamples?.(version);
      return requests === undefined || requests.length === 0 ? undefined : { source: 'samples', requests };
    } catch (error) {
      logger.warn(
        { deployment: name, version, reason: (error as Error).message },
        "cannot read the version's sample rows; warming up with synthetic inputs",
      );
      return undefined;
    }
  }

  function versionLoad(version: number, plan: DeploymentPlan, stamp: string): VersionLoad<number> {
    return {
      key: version,
      stamp,
      read: async () => {
        const bytes = await options.readVersion(version);
        const samples = await readSamples(version);
        return {
          bytes,
          config: resolveModelConfig(plan.serving, config),
          ...(samples !== undefined && { warmupRequests: samples }),
        };
      },
    };
  }

  async function applyOne(plan: DeploymentPlan): Promise<void> {
    // A version is reloaded when the serving settings change (new batching knobs, instances).
    const stamp = JSON.stringify(plan.serving);
    const needed = plannedVersions(plan);
    const loads = [...needed].filter((v) => !table.isCurrent(v, stamp)).map((v) => versionLoad(v, plan, stamp));
    let retiring: Promise<void>[] = [];
    let released: Promise<void>;
    try {
      ({ released } = await table.replace(loads, {
        onSwap: () => {
          active = plan;
          lastError = undefined;
          options.onSwap?.(plan);
          retiring = [...table.slots.keys()].filter((v) => !needed.has(v)).map((v) => table.retire(v));
        },
      }));
    } catch (error) {
      lastError = (error as Error).message;
      throw error;
    }
    logger.info(
      {
        deployment: name,
        revision: plan.revision,
        routes: plan.routes,
        loaded: table.readyVersions().map((h) => Number(h.version)),
      },
      'deployment plan active',
    );
    await Promise.allSettled([released, ...retiring]);
  }

  async function drainQueue(): Promise<void> {
    while (queued !== undefined && !closed) {
      const plan = queued;
      queued = undefined;
      await applyOne(plan);
    }
  }

  return {
    get active() {
      return active;
    },
    get applying() {
      return applying !== undefined;
    },
    get lastError() {
      return lastError;
    },

    apply(plan) {
      if (closed) return Promise.reject(new StratumError('SHUTTING_DOWN', `deployment "${name}" is closed`));
      queued = plan;
      applying ??= drainQueue().finally(() => {
        applying = undefined;
      });
      return applying;
    },

    settled: () => (applying === undefined ? Promise.resolve() : applying.catch(() => undefined)),
    ready: (version) => table.ready(version),
    versions: () => table.readyVersions(),
    warmup: () => Object.fromEntries(table.readyVersions().map((h) => [h.version, h.warmup])),

    async close() {
      if (closed) return;
      closed = true;
      queued = undefined;
      await applying?.catch(() => undefined);
      active = undefined;
      await table.close();
    },
  };
}
