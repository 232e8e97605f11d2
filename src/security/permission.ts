/**
 * The permissions a route or gRPC method can require (re-exported by `src/api/permissions.ts`,
 * where the transports read them); here, below the API layer, so that the role table can name them.
 */

/** Every permission a route can need, `public` aside (no check at all). */
export const PERMISSIONS = [
  'metrics:read',
  'models:read',
  'models:infer',
  'repository:read',
  'repository:write',
  'registry:read',
  'registry:write',
  'aliases:write',
  'deployments:write',
  'jobs:read',
  'jobs:write',
  'artifacts:manage',
  'keys:manage',
  'audit:read',
] as const;

/** Permissions a principal can hold, and `public` for routes anyone may call. */
export type Permission = 'public' | (typeof PERMISSIONS)[number];
