/**
 * The authorizer used when security is on: the bearer credential (an API key `stk_…` or a JWT)
 * → the principal → its grants checked against the route's permission and model → its limits.
 * Each step throws its own error: UNAUTHENTICATED (401), PERMISSION_DENIED (403), RATE_LIMITED
 * (429); each outcome is counted per principal.
 */
import type { Authorization, AuthorizationRequest, Authorizer } from './authorizer.ts';
import { StratumError } from '../errors/index.ts';
import type { ApiKeyLimits } from '../store/api-key-store.ts';
import { looksLikeApiKey } from './api-key-secret.ts';
import type { ApiKeyService } from './api-keys.ts';
import type { JwtVerifier } from './jwt-verifier.ts';
import type { Principal } from './principal.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { formatRoleGrant } from './role-grant.ts';
import { grantsAllow } from './role-permissions.ts';
import type { SecurityMetrics } from './security-metrics.ts';

/** Options of {@link createSecurityAuthorizer}. */
export interface SecurityAuthorizerOptions {
  /** API keys; absent: keys are refused (no metadata store). */
  readonly keys?: ApiKeyService;
  /** JWT bearer tokens; absent: tokens are refused. */
  readonly jwt?: JwtVerifier;
  readonly limiter: RateLimiter;
  /** Limits of principals that carry none of their own (JWTs; keys created without limits). */
  readonly defaultLimits: ApiKeyLimits;
  readonly metrics: SecurityMetrics;
}

const BEARER = /^Bearer +(\S+) *$/i;

/** Creates the authorizer. */
export function createSecurityAuthorizer(options: SecurityAuthorizerOptions): Authorizer {
  const { limiter, metrics } = options;

  async function identify(
    header: string | string[] | undefined,
  ): Promise<{ principal: Principal; limits: ApiKeyLimits }> {
    if (header === undefined || header === '') {
      throw new StratumError('UNAUTHENTICATED', 'credentials required: send Authorization: Bearer <API key or token>');
    }
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (match === null) {
      throw new StratumError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <API key or token>"');
    }
    const credential = match[1] as string;
    if (looksLikeApiKey(credential)) {
      if (options.keys === undefined) {
        throw new StratumError(
          'UNAUTHENTICATED',
          'API keys are not accepted by this server (it has no metadata store)',
        );
      }
      const identity = await options.keys.authenticate(credential);
      const own = identity.limits;
      const limited = own.requestsPerSecond !== undefined || own.maxConcurrent !== undefined;
      return { principal: identity.principal, limits: limited ? own : options.defaultLimits };
    }
    if (options.jwt === undefined) {
      throw new StratumError(
        'UNAUTHENTICATED',
        'bearer tokens are not accepted by this server (no JWT issuer is configured)',
      );
    }
    return { principal: await options.jwt.authenticate(credential), limits: options.defaultLimits };
  }

  return async (request: AuthorizationRequest): Promise<Authorization> => {
    let identity: { principal: Principal; limits: ApiKeyLimits };
    try {
      identity = await identify(request.headers['authorization']);
    } catch (error) {
      metrics.count('anonymous', 'unauthenticated');
      throw error;
    }
    const { principal } = identity;
    if (!grantsAllow(principal.grants, request)) {
      metrics.count(principal.id, 'denied');
      throw new StratumError('PERMISSION_DENIED', denial(principal, request), {
        details: {
          principal: principal.id,
          permission: request.permission,
          ...(request.model !== undefined && { model: request.model }),
        },
      });
    }
    let release: (() => void) | undefined;
    try {
      release = limiter.admit(principal.id, identity.limits);
    } catch (error) {
      metrics.count(principal.id, 'rate_limited');
      throw error;
    }
    metrics.count(principal.id, 'allowed');
    return release === undefined ? { principal } : { principal, release };
  };
}

/** `key:ab12… (viewer, predictor:iris) lacks models:infer on model "wine"` */
function denial(principal: Principal, request: AuthorizationRequest): string {
  const roles = principal.grants.length === 0 ? 'no roles' : principal.grants.map(formatRoleGrant).join(', ');
  const where = request.model === undefined ? ' (a global grant is needed)' : ` on model "${request.model}"`;
  return `${principal.id} (${roles}) lacks ${request.permission}${where}`;
}
