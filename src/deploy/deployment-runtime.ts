/**
 * One deployment on this replica: the versions it has loaded, the plan traffic follows, and what
 * it watches while serving (canary windows, shadow comparisons, recent requests for warm-up).
 *
 * A new plan never interrupts traffic: the versions it needs are loaded and warmed (with recent
 * live requests when there are any) while the old plan keeps serving; then the plan is swapped in
 * one assignment; then the versions no longer needed drain their queues and unload.
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { CanaryPolicy } from '../registry/deployment-spec.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { type ModelConfig, resolveModelConfig } from '../serving/model-config.ts';
import type { InferTarget, RouteContext } from '../serving/model-source.ts';
import { loadModelVersion, type ModelVersion } from '../serving/model-version.ts';
import type { InferRequest, InferResponse } from '../serving/types.ts';
import type { WarmupReport, WarmupRequests } from '../serving/warmup.ts';
import { compareOutputs } from './output-comparison.ts';
import { keyPosition, pickRoute, type WeightedRoute } from './weighted-router.ts';
import { WindowStats, type WindowSnapshot } from './window-stats.ts';

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

/** Shadow traffic so far. */
export interface ShadowStats {
  version: number | undefined;
  copied: number;
  agreed: number;
  disagreed: number;
  failed: number;
  /** Not copied because too many shadow requests were already running. */
  dropped: number;
  maxAbsDiff: number;
}

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

/** Options of {@link createDeploymentRuntime}. */
export interface DeploymentRuntimeOptions {
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
   */
  readonly readSamples?: (version: number) => Promise<readonly InferRequest[] | undefined>;
  /** A number unique in this process, for pool keys. */
  readonly nextGeneration: () => number;
}

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
  canaryWindow(): { key: string; canary: WindowStats; stable: WindowStats } | undefined;
  status(): DeploymentStatus;
  /** Drains and unloads every version. */
  close(): Promise<void>;
}

const RECENT_REQUESTS = 8;
/** Times the recorded requests are replayed at once after the one-by-one pass. */
const WARMUP_ROUNDS = 4;
/** Once the ring is full, one routed request in this many replaces the oldest recorded one. */
const RECORD_EVERY = 64;
const MAX_BACKGROUND = 32;

/** Creates the runtime of one deployment. */
export function createDeploymentRuntime(options: DeploymentRuntimeOptions): DeploymentRuntime {
  const { name, config, pool, metrics, logger } = options;
  const loaded = new Map<number, { handle: ModelVersion; servingKey: string }>();
  let active: DeploymentPlan | undefined;
  let queued: DeploymentPlan | undefined;
  let applying: Promise<void> | undefined;
  let lastError: string | undefined;
  let closed = false;
  const recent: InferRequest[] = [];
  let background = 0;
  let routedCount = 0;
  let window: { key: string; canary: WindowStats; stable: WindowStats } | undefined;
  const shadow: ShadowStats = {
    version: undefined,
    copied: 0,
    agreed: 0,
    disagreed: 0,
    failed: 0,
    dropped: 0,
    maxAbsDiff: 0,
  };

  function versionsOf(plan: DeploymentPlan): Set<number> {
    const out = new Set(plan.routes.map((r) => r.version));
    if (plan.shadow) out.add(plan.shadow.version);
    if (plan.canary) {
      out.add(plan.canary.stable);
      out.add(plan.canary.canary);
    }
    return out;
  }

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

  async function load(version: number, plan: DeploymentPlan): Promise<ModelVersion> {
    const bytes = await options.readVersion(version);
    const samples = await readSamples(version);
    const handle = await loadModelVersion({
      model: name,
      version: String(version),
      bytes,
      config: resolveModelConfig(plan.serving, config),
      pool,
      metrics: metrics.forVersion(name, String(version)),
      generation: options.nextGeneration(),
      keyPrefix: 'deployment/',
      ...(samples !== undefined && { warmupRequests: samples }),
    });
    if (handle.warmup.failures > 0) {
      logger.warn({ deployment: name, version, warmup: handle.warmup }, 'warm-up failed; the version serves anyway');
    }
    // Zeros warm the kernels; recent live requests also warm the shapes traffic really has: once
    // each, then all together a few times over, so that the batch sizes load forms are run too.
    for (const request of recent) {
      await handle.infer(cloneRequest(request), 'warmup').catch((error: unknown) => {
        logger.debug({ deployment: name, version, reason: (error as Error).message }, 'warm-up request failed');
      });
    }
    const together = Array.from({ length: WARMUP_ROUNDS }, () => recent).flat();
    await Promise.allSettled(together.map((request) => handle.infer(cloneRequest(request), 'warmup')));
    return handle;
  }

  async function applyOne(plan: DeploymentPlan): Promise<void> {
    const servingKey = JSON.stringify(plan.serving);
    const needed = versionsOf(plan);
    const fresh = new Map<number, ModelVersion>();
    try {
      for (const version of needed) {
        const current = loaded.get(version);
        if (current !== undefined && current.servingKey === servingKey) continue;
        fresh.set(version, await load(version, plan));
      }
    } catch (error) {
      await Promise.allSettled([...fresh.values()].map((h) => h.unload()));
      lastError = (error as Error).message;
      throw error;
    }
    const retired: ModelVersion[] = [];
    for (const [version, handle] of fresh) {
      const old = loaded.get(version);
      loaded.set(version, { handle, servingKey });
      if (old !== undefined) retired.push(old.handle);
    }
    active = plan;
    lastError = undefined;
    openWindow(plan);
    if (plan.shadow?.version !== shadow.version) resetShadow(plan.shadow?.version);
    for (const [version, entry] of loaded) {
      if (!needed.has(version)) {
        loaded.delete(version);
        retired.push(entry.handle);
      }
    }
    logger.info(
      { deployment: name, revision: plan.revision, routes: plan.routes, loaded: [...loaded.keys()] },
      'deployment plan active',
    );
    await Promise.allSettled(retired.map((h) => h.unload()));
  }

  function openWindow(plan: DeploymentPlan): void {
    const canary = plan.canary;
    if (canary === undefined) {
      window = undefined;
      return;
    }
    const key = `${canary.id}:${canary.step}`;
    if (window?.key === key) return;
    window = { key, canary: new WindowStats(), stable: new WindowStats() };
  }

  function resetShadow(version: number | undefined): void {
    Object.assign(shadow, { version, copied: 0, agreed: 0, disagreed: 0, failed: 0, dropped: 0, maxAbsDiff: 0 });
  }

  function stickyKey(plan: DeploymentPlan, context: RouteContext): string | undefined {
    const sticky = plan.sticky;
    if (sticky === undefined) return undefined;
    if (sticky.header !== undefined) {
      const value = context.headers?.[sticky.header];
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined && first !== '') return first;
    }
    if (sticky.parameter !== undefined) {
      const value = context.request.parameters?.[sticky.parameter];
      if (value !== undefined && value !== null) return String(value);
    }
    return undefined;
  }

  /** Server-side failures count against a version; a caller's bad input does not. */
  function isVersionFault(error: unknown): boolean {
    return !(error instanceof StratumError) || (error.status >= 500 && error.code !== 'SHUTTING_DOWN');
  }

  function inBackground(task: () => Promise<void>): boolean {
    if (background >= MAX_BACKGROUND) return false;
    background++;
    // After the caller has its response: the copy never delays it.
    setImmediate(() => {
      task()
        .catch((error: unknown) => logger.debug({ deployment: name, err: error }, 'background comparison failed'))
        .finally(() => background--);
    });
    return true;
  }

  /**
   * What to do with a routed request besides answering it, decided before it runs: running it
   * transfers its tensors to a worker thread, so anything that reuses it needs a copy made first.
   */
  function sideTasks(plan: DeploymentPlan, version: number): { compare: boolean; shadow: boolean; record: boolean } {
    const canary = plan.canary;
    const compare = canary !== undefined && version === canary.canary && Math.random() < canary.policy.compareRate;
    const shadowPlan = plan.shadow;
    const shadow = shadowPlan !== undefined && Math.random() < shadowPlan.sampleRate;
    // Keep a few recent requests for warm-up: refreshed now and then, not copied on every request.
    const record = recent.length < RECENT_REQUESTS || ++routedCount % RECORD_EVERY === 0;
    return { compare, shadow, record };
  }

  function afterResponse(options: {
    plan: DeploymentPlan;
    version: number;
    copy: InferRequest;
    response: InferResponse;
    tasks: { compare: boolean; shadow: boolean };
  }): void {
    const { plan, copy, response, tasks } = options;
    const canary = plan.canary;
    const win = window;
    if (tasks.compare && canary !== undefined && win !== undefined) {
      const stable = loaded.get(canary.stable)?.handle;
      if (stable !== undefined) {
        // The shadow may need the copy too: the comparison runs on one of its own.
        const request = tasks.shadow ? cloneRequest(copy) : copy;
        // The copy's latency is not the stable version's: it runs unqueued in the background,
        // so it would flatter the stable p99 the canary is judged against. A failed copy is not
        // the canary's fault either: it is only logged.
        inBackground(async () => {
          const other = await stable.infer(request, 'compare');
          win.canary.comparison(compareOutputs(other, response).agree);
        });
      }
    }
    const target = plan.shadow;
    if (!tasks.shadow || target === undefined) return;
    const handle = loaded.get(target.version)?.handle;
    if (handle === undefined) return;
    const label = { deployment: name, version: String(target.version) };
    const started = inBackground(async () => {
      shadow.copied++;
      try {
        const other = await handle.infer(copy, 'shadow');
        const result = compareOutputs(response, other);
        if (result.agree) shadow.agreed++;
        else shadow.disagreed++;
        if (result.maxAbsDiff > shadow.maxAbsDiff) shadow.maxAbsDiff = result.maxAbsDiff;
        metrics.shadow({ ...label, outcome: result.agree ? 'agree' : 'disagree' });
      } catch {
        shadow.failed++;
        metrics.shadow({ ...label, outcome: 'error' });
      }
    });
    if (!started) {
      shadow.dropped++;
      metrics.shadow({ ...label, outcome: 'dropped' });
    }
  }

  function target(plan: DeploymentPlan, handle: ModelVersion, routed: boolean): InferTarget {
    const version = Number(handle.version);
    return {
      model: handle.model,
      version: handle.version,
      async infer(request, protocol) {
        const start = performance.now();
        const win = plan.canary !== undefined ? window : undefined;
        const side = win === undefined ? undefined : version === plan.canary?.canary ? win.canary : win.stable;
        const tasks = routed ? sideTasks(plan, version) : undefined;
        const copy =
          tasks !== undefined && (tasks.compare || tasks.shadow || tasks.record) ? cloneRequest(request) : undefined;
        try {
          const response = await handle.infer(request, protocol);
          side?.request(true, performance.now() - start);
          if (tasks !== undefined && copy !== undefined) {
            if (tasks.record) {
              if (recent.length >= RECENT_REQUESTS) recent.shift();
              // Warm-up replays its own copy, so one recorded request can be replayed many times.
              recent.push(tasks.compare || tasks.shadow ? cloneRequest(copy) : copy);
            }
            if (tasks.compare || tasks.shadow) afterResponse({ plan, version, copy, response, tasks });
          }
          return response;
        } catch (error) {
          if (isVersionFault(error)) side?.request(false, performance.now() - start);
          throw error;
        }
      },
    };
  }

  async function drainQueue(): Promise<void> {
    while (queued !== undefined && !closed) {
      const plan = queued;
      queued = undefined;
      await applyOne(plan);
    }
  }

  return {
    name,
    get active() {
      return active;
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

    route(context) {
      const plan = active;
      if (plan === undefined) {
        throw new StratumError(
          'MODEL_NOT_READY',
          `deployment "${name}" is loading${lastError ? ` (last attempt failed: ${lastError})` : ''}`,
          { retryAfterSeconds: 1 },
        );
      }
      if (context.version !== undefined) {
        const handle = loaded.get(Number(context.version))?.handle;
        if (handle === undefined || !/^\d+$/.test(context.version)) {
          throw new StratumError(
            'VERSION_NOT_FOUND',
            `deployment "${name}" serves no version "${context.version}"; loaded: [${[...loaded.keys()].sort((a, b) => a - b).join(', ')}]`,
            { details: { model: name, version: context.version } },
          );
        }
        return target(plan, handle, false);
      }
      const key = stickyKey(plan, context);
      const route = pickRoute(plan.routes, key === undefined ? Math.random() * 100 : keyPosition(key));
      const handle = loaded.get(route.version)?.handle;
      if (handle === undefined) {
        throw new StratumError('MODEL_NOT_READY', `deployment "${name}" version ${route.version} is not loaded`, {
          retryAfterSeconds: 1,
        });
      }
      return target(plan, handle, true);
    },

    versions() {
      return [...loaded.entries()].sort(([a], [b]) => a - b).map(([, e]) => e.handle);
    },
    handle: (version) => loaded.get(version)?.handle,
    canaryWindow: () => window,

    status() {
      return {
        name,
        revision: active?.revision,
        routes: active?.routes ?? [],
        loadedVersions: [...loaded.keys()].sort((a, b) => a - b),
        warmup: Object.fromEntries([...loaded].map(([version, entry]) => [String(version), entry.handle.warmup])),
        loading: applying !== undefined,
        ...(lastError !== undefined && { lastError }),
        ...(window !== undefined && {
          canary: { key: window.key, canary: window.canary.snapshot(), stable: window.stable.snapshot() },
        }),
        shadow: { ...shadow },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      queued = undefined;
      await applying?.catch(() => undefined);
      const handles = [...loaded.values()].map((e) => e.handle);
      loaded.clear();
      active = undefined;
      await Promise.allSettled(handles.map((h) => h.unload()));
    },
  };
}

/** A request whose tensors own fresh buffers (the original's may be transferred to a worker). */
function cloneRequest(request: InferRequest): InferRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) => ({
      ...input,
      data: Array.isArray(input.data) ? input.data.map((b) => b.slice()) : (input.data as Float32Array).slice(),
    })),
  };
}
