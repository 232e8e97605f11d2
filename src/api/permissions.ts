/**
 * The vocabulary of access control: the permissions a route or gRPC method can require, and the
 * `Authorizer` the transports ask. Which permission each route needs is declared with the route
 * (`http/route-table.ts` lists them all; `grpc/grpc-methods.ts` the gRPC methods).
 */

/** Permissions a principal can hold. */
export type Permission =
  | 'public'
  | 'metrics:read'
  | 'models:read'
  | 'models:infer'
  | 'repository:read'
  | 'repository:write'
  | 'registry:read'
  | 'registry:write'
  | 'deployments:write'
  | 'jobs:read'
  | 'jobs:write'
  | 'audit:read';

/** What the hook asks. */
export interface AuthorizationRequest {
  readonly permission: Permission;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The model named in the route, if any. */
  readonly model?: string;
}

/**
 * Decides whether a request may proceed; throws a StratumError (UNAUTHENTICATED or
 * PERMISSION_DENIED) when not.
 */
export type Authorizer = (request: AuthorizationRequest) => void | Promise<void>;

/** Lets everything through (until principals and roles exist). */
export const allowAll: Authorizer = () => undefined;
