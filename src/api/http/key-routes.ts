/**
 * API keys under `/api/v1/keys` (permission `keys:manage`, admin only): create (the secret is in
 * this one reply and nowhere else), list (public fields only) and revoke. Creating and revoking are
 * recorded in the audit log with the key's public fields, never its secret.
 */
import { z } from 'zod';
import type { AuditEntryInput } from '../../audit/audit-sink.ts';
import { RequestLimitsSchema } from '../../config/index.ts';
import { StratumError } from '../../errors/index.ts';
import type { ApiKeyService } from '../../security/api-keys.ts';
import { parseRoleGrant } from '../../security/role-grant.ts';
import { withoutUndefined } from '../../util/without-undefined.ts';
import { actorOf } from './request-helpers.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const KeyParams = z.object({
  id: z.string().regex(/^[0-9a-f]{16}$/, 'a key id is 16 hex digits (the part after stk_ in the key)'),
});

const NewKeyBody = z
  .object({
    name: z.string().min(1).max(200),
    /** `viewer`, `predictor:iris`, … */
    grants: z.array(z.string().min(1)).min(1, 'at least one grant'),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    limits: RequestLimitsSchema.optional(),
  })
  .strict();

const KeyRecord = z.object({
  id: z.string(),
  name: z.string(),
  grants: z.array(z.object({ role: z.string(), model: z.string().optional() })),
  limits: RequestLimitsSchema,
  createdAt: z.number(),
  createdBy: z.string(),
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
  revokedBy: z.string().optional(),
});

function keysOf(context: ManagementContext): ApiKeyService {
  if (context.keys !== undefined) return context.keys;
  throw new StratumError('UNSUPPORTED', 'this server keeps no API keys (it has no metadata store)');
}

/** Fire and forget: a failing audit log must not fail a key change that already happened. */
function audit(context: ManagementContext, entry: AuditEntryInput, log: { warn(o: object, m: string): void }): void {
  context.audit?.append(entry).catch((error: unknown) => log.warn({ err: error }, 'could not append to the audit log'));
}

/** Every key route. */
export const KEY_ROUTES: readonly HttpRoute<ManagementContext>[] = Object.freeze([
  route({
    method: 'GET',
    path: '/api/v1/keys',
    permission: 'keys:manage',
    summary: 'List API keys (never their secrets)',
    tags: ['keys'],
    reply: z.object({ items: z.array(KeyRecord) }),
    handler: async (_input, context) => ({ items: await keysOf(context).list() }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/keys',
    permission: 'keys:manage',
    // Recorded by the handler as key.create with the key's public fields: a route record would
    // carry the reply, which holds the secret.
    audit: false,
    summary: 'Create an API key; the reply is the only place its secret appears',
    tags: ['keys'],
    status: 201,
    body: NewKeyBody,
    reply: KeyRecord.extend({ key: z.string() }),
    errors: ['BAD_REQUEST'],
    handler: async ({ body, request }, context) => {
      const grants = body.grants.map((text, index) => {
        try {
          return parseRoleGrant(text);
        } catch (error) {
          throw new StratumError('BAD_REQUEST', `invalid body: grants[${index}]: ${(error as Error).message}`);
        }
      });
      const expiresAt = body.expiresAt === undefined ? undefined : Date.parse(body.expiresAt);
      if (expiresAt !== undefined && expiresAt <= Date.now()) {
        throw new StratumError('BAD_REQUEST', `invalid body: expiresAt ${body.expiresAt} is in the past`);
      }
      const by = actorOf(request);
      const { key, record } = await keysOf(context).create({
        name: body.name,
        grants,
        by,
        ...(expiresAt !== undefined && { expiresAt }),
        ...(body.limits !== undefined && { limits: withoutUndefined(body.limits) }),
      });
      audit(
        context,
        {
          actor: by,
          action: 'key.create',
          resource: `keys/${record.id}`,
          outcome: 'ok',
          source: request.ip,
          after: record,
          requestId: request.id,
        },
        request.log,
      );
      return { key, ...record };
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/keys/:id/revoke',
    permission: 'keys:manage',
    // Recorded by the handler as key.revoke, like key.create.
    audit: false,
    summary: 'Revoke an API key (at once on this replica, within the cache TTL on the others)',
    tags: ['keys'],
    params: KeyParams,
    reply: KeyRecord,
    errors: ['NOT_FOUND'],
    handler: async ({ params, request }, context) => {
      const by = actorOf(request);
      const record = await keysOf(context).revoke({ id: params.id, by });
      audit(
        context,
        {
          actor: by,
          action: 'key.revoke',
          resource: `keys/${record.id}`,
          outcome: 'ok',
          source: request.ip,
          after: record,
          requestId: request.id,
        },
        request.log,
      );
      return record;
    },
  }),
]);
