/**
 * Which loaded version of a deployment answers a request: the one the request names
 * (`/v2/models/{d}/versions/{v}`), else one of the plan's weighted routes. With a sticky key (a
 * header or a request parameter) the key is hashed onto the routes' ranges, so a user keeps
 * their version and moving weight only re-assigns the users in the moved range.
 */
import { StratumError } from '../errors/index.ts';
import type { RouteContext } from '../serving/model-source.ts';
import type { ModelVersion } from '../serving/model-version.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { PlanApplier } from './plan-applier.ts';
import { keyPosition, pickRoute } from './weighted-router.ts';

/** Where a request goes. */
export interface RoutedVersion {
  /** The plan the choice was made under. */
  readonly plan: DeploymentPlan;
  readonly handle: ModelVersion;
  /** Chosen by the plan's routes (not named by the request): side traffic watches only these. */
  readonly routed: boolean;
}

/** Options of {@link routeRequest}. */
export interface RouteRequestOptions {
  /** The deployment's name. */
  readonly name: string;
  /** The deployment's active plan and loaded versions. */
  readonly applier: Pick<PlanApplier, 'active' | 'lastError' | 'ready' | 'versions'>;
}

/**
 * Picks the version that answers `context`.
 * @throws StratumError MODEL_NOT_READY before the first plan is loaded, VERSION_NOT_FOUND for a
 * version the deployment does not serve.
 */
export function routeRequest(context: RouteContext, options: RouteRequestOptions): RoutedVersion {
  const { name, applier } = options;
  const plan = applier.active;
  if (plan === undefined) {
    const lastError = applier.lastError;
    throw new StratumError(
      'MODEL_NOT_READY',
      `deployment "${name}" is loading${lastError ? ` (last attempt failed: ${lastError})` : ''}`,
      { retryAfterSeconds: 1 },
    );
  }
  if (context.version !== undefined) {
    const handle = applier.ready(Number(context.version));
    if (handle === undefined || !/^\d+$/.test(context.version)) {
      const loaded = applier.versions().map((v) => v.version);
      throw new StratumError(
        'VERSION_NOT_FOUND',
        `deployment "${name}" serves no version "${context.version}"; loaded: [${loaded.join(', ')}]`,
        { details: { model: name, version: context.version } },
      );
    }
    return { plan, handle, routed: false };
  }
  const key = stickyKey(plan, context);
  const route = pickRoute(plan.routes, key === undefined ? Math.random() * 100 : keyPosition(key));
  const handle = applier.ready(route.version);
  if (handle === undefined) {
    throw new StratumError('MODEL_NOT_READY', `deployment "${name}" version ${route.version} is not loaded`, {
      retryAfterSeconds: 1,
    });
  }
  return { plan, handle, routed: true };
}

/** The request's sticky key: the plan's header if the request has it, else its parameter. */
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
