/**
 * What a deployment does with its routed traffic besides answering it: the canary window of the
 * current step (each request's outcome and latency on either side, and a sampled share of canary
 * requests also run on the stable version and compared), shadow copies run on the shadow version
 * and compared with the live answer, and a few recent requests recorded to warm up the versions
 * loaded next.
 *
 * Running a request transfers its tensors to a worker thread, so a request that will be reused is
 * copied before it runs, and only then (the decision is sampled first). Copies run after the
 * caller has its response, at most 32 at a time (more are dropped and counted): side traffic never
 * changes a response or delays it.
 */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { InferTarget } from '../serving/model-source.ts';
import type { ModelVersion } from '../serving/model-version.ts';
import type { InferRequest, InferResponse } from '../serving/types.ts';
import { cloneRequest } from './clone-request.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { RoutedVersion } from './deployment-router.ts';
import { compareOutputs } from './output-comparison.ts';
import { createRecentRequests } from './recent-requests.ts';
import { WindowStats } from './window-stats.ts';

const MAX_BACKGROUND = 32;

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

/** What this replica has seen of the current canary step, on either side. */
export interface CanaryWindow {
  /** `<canary id>:<step>`: a new step opens a new window. */
  readonly key: string;
  readonly canary: WindowStats;
  readonly stable: WindowStats;
}

/** Options of {@link createSideTraffic}. */
export interface SideTrafficOptions {
  /** The deployment's name. */
  readonly name: string;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** A ready version of the deployment (the stable side of a canary, the shadow). */
  readonly ready: (version: number) => ModelVersion | undefined;
}

/** The side traffic of one deployment. */
export interface SideTraffic {
  /** Follows a new plan: the window of its canary step, shadow counts reset when the shadow version changes. */
  follow(plan: DeploymentPlan): void;
  /** The version a request was routed to, watched while it answers. */
  target(routed: RoutedVersion): InferTarget;
  /** Warms a freshly loaded version up with the recorded requests. */
  replay(handle: ModelVersion): Promise<void>;
  /** The canary window of the active step, if a canary is running. */
  window(): CanaryWindow | undefined;
  /** A copy of the shadow counts. */
  shadow(): ShadowStats;
}

/** What to do with a routed request besides answering it. */
interface SideTasks {
  readonly compare: boolean;
  readonly shadow: boolean;
  readonly record: boolean;
}

/** Creates the side traffic of one deployment. */
export function createSideTraffic(options: SideTrafficOptions): SideTraffic {
  const { name, metrics, logger, ready } = options;
  const recent = createRecentRequests({ name, logger });
  let background = 0;
  let window: CanaryWindow | undefined;
  const shadow: ShadowStats = {
    version: undefined,
    copied: 0,
    agreed: 0,
    disagreed: 0,
    failed: 0,
    dropped: 0,
    maxAbsDiff: 0,
  };

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

  /** Decided before the request runs: running it transfers its tensors, so reuse needs a copy first. */
  function sideTasks(plan: DeploymentPlan, version: number): SideTasks {
    const canary = plan.canary;
    const compare = canary !== undefined && version === canary.canary && Math.random() < canary.policy.compareRate;
    const shadowPlan = plan.shadow;
    const shadow = shadowPlan !== undefined && Math.random() < shadowPlan.sampleRate;
    return { compare, shadow, record: recent.wanted() };
  }

  function compareWithStable(plan: DeploymentPlan, response: InferResponse, copy: () => InferRequest): void {
    const canary = plan.canary;
    const win = window;
    if (canary === undefined || win === undefined) return;
    const stable = ready(canary.stable);
    if (stable === undefined) return;
    const request = copy();
    // The copy's latency is not the stable version's: it runs unqueued in the background, so it
    // would flatter the stable p99 the canary is judged against. A failed copy is not the
    // canary's fault either: it is only logged.
    inBackground(async () => {
      const other = await stable.infer(request, 'compare');
      win.canary.comparison(compareOutputs(other, response).agree);
    });
  }

  function runShadow(plan: DeploymentPlan, copy: InferRequest, response: InferResponse): void {
    const target = plan.shadow;
    if (target === undefined) return;
    const handle = ready(target.version);
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

  /** Hands the copy to whatever wants it, once the caller has its response. */
  function afterResponse(options: {
    plan: DeploymentPlan;
    copy: InferRequest;
    response: InferResponse;
    tasks: SideTasks;
  }): void {
    const { plan, copy, response, tasks } = options;
    const reused = tasks.compare || tasks.shadow;
    // Warm-up replays its own copy, so one recorded request can be replayed many times.
    if (tasks.record) recent.record(reused ? cloneRequest(copy) : copy);
    // The shadow may need the copy too: the comparison runs on one of its own.
    if (tasks.compare) compareWithStable(plan, response, () => (tasks.shadow ? cloneRequest(copy) : copy));
    if (tasks.shadow) runShadow(plan, copy, response);
  }

  function target({ plan, handle, routed }: RoutedVersion): InferTarget {
    const version = Number(handle.version);
    return {
      model: handle.model,
      version: handle.version,
      // Explanations are not traffic: no canary window, shadow or recording sees them.
      explain: (request) => handle.explain(request),
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
          if (tasks !== undefined && copy !== undefined) afterResponse({ plan, copy, response, tasks });
          return response;
        } catch (error) {
          if (isVersionFault(error)) side?.request(false, performance.now() - start);
          throw error;
        }
      },
    };
  }

  return {
    follow(plan) {
      const canary = plan.canary;
      if (canary === undefined) {
        window = undefined;
      } else {
        const key = `${canary.id}:${canary.step}`;
        if (window?.key !== key) window = { key, canary: new WindowStats(), stable: new WindowStats() };
      }
      if (plan.shadow?.version !== shadow.version) {
        const version = plan.shadow?.version;
        Object.assign(shadow, { version, copied: 0, agreed: 0, disagreed: 0, failed: 0, dropped: 0, maxAbsDiff: 0 });
      }
    },
    target,
    replay: (handle) => recent.replay(handle),
    window: () => window,
    shadow: () => ({ ...shadow }),
  };
}

/** Server-side failures count against a version; a caller's bad input does not. */
function isVersionFault(error: unknown): boolean {
  return !(error instanceof StratumError) || (error.status >= 500 && error.code !== 'SHUTTING_DOWN');
}
