/**
 * The `Authorizer` the transports ask before a route or gRPC method runs (re-exported by
 * `src/api/permissions.ts`), and `allowAll`, the authorizer when security is off.
 */
import type { Permission } from './permission.ts';
import { ANONYMOUS, type Principal } from './principal.ts';

/** What the hook asks. */
export interface AuthorizationRequest {
  readonly permission: Exclude<Permission, 'public'>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The model named in the route, if any: a grant limited to that model applies. */
  readonly model?: string;
}

/** What the authorizer answers for a request it lets through. */
export interface Authorization {
  /** Who made the request (`request.principal`). */
  readonly principal: Principal;
  /** Frees what the request holds (a concurrency slot); call once when it ends. */
  readonly release?: () => void;
}

/**
 * Decides whether a request may proceed and who made it; throws a StratumError when not:
 * UNAUTHENTICATED (no or bad credentials), PERMISSION_DENIED (no grant for the permission on the
 * model) or RATE_LIMITED (over the caller's quota).
 */
export type Authorizer = (request: AuthorizationRequest) => Authorization | Promise<Authorization>;

const ALLOWED: Authorization = Object.freeze({ principal: ANONYMOUS });

/** Lets everything through as `anonymous` (security off: the embedded default on loopback). */
export const allowAll: Authorizer = () => ALLOWED;
