/**
 * Who made a request: resolved by the authenticator from an API key or a JWT bearer token, the
 * local CLI, or nobody (security off, or a public route). Handlers and the audit log read it from
 * `request.principal`.
 */

/** The roles a principal can be granted, from least to most. */
export const ROLES = ['viewer', 'predictor', 'trainer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A role, on every model or on one. */
export interface RoleGrant {
  readonly role: Role;
  /** The model the grant is limited to; absent: every model. */
  readonly model?: string;
}

export interface Principal {
  /** `key:<key id>`, `jwt:<subject>`, `cli:<os user>` or `anonymous`. */
  readonly id: string;
  readonly kind: 'api-key' | 'jwt' | 'cli' | 'anonymous';
  readonly grants: readonly RoleGrant[];
}

export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', kind: 'anonymous', grants: Object.freeze([]) });

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authorization hook before any handler runs; absent on public routes. */
    principal?: Principal;
  }
}
