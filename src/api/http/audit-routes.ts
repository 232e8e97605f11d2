/**
 * The audit log under `/api/v1/audit`: records filtered by actor, action, resource prefix, outcome
 * and time, newest first in pages, or every matching record as JSON Lines (`Accept:
 * application/x-ndjson` or `?format=jsonl`) for export; each line is a record exactly as hashed,
 * so an outside tool can verify an export (see `src/audit/audit-record.ts`).
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { auditJsonLines } from '../../audit/audit-export.ts';
import type { AuditQuery } from '../../audit/audit-log.ts';
import { AUDIT_OUTCOMES } from '../../audit/audit-record.ts';
import { AUDIT_TIME_FORMS, parseAuditTime } from '../../audit/audit-time.ts';
import { StratumError } from '../../errors/index.ts';
import { PageQuery } from './management-schemas.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** The media type of the export. */
export const JSON_LINES = 'application/x-ndjson';

/** A time bound: ISO 8601 (`2026-12-05T03:00:00Z`) or epoch milliseconds. */
const TimeParam = (name: string) =>
  z
    .string()
    .transform((raw, ctx) => {
      const ms = parseAuditTime(raw);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${name} must be ${AUDIT_TIME_FORMS}, got "${raw}"` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ type: 'string', description: 'ISO 8601 time or epoch milliseconds' } as Record<string, unknown>);

export const AuditQuerySchema = z
  .object({
    ...PageQuery,
    actor: z.string().min(1).max(256).optional(),
    action: z.string().min(1).max(128).optional(),
    resource: z.string().min(1).max(1024).optional().describe('a prefix of the resource path'),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    since: TimeParam('since').optional(),
    until: TimeParam('until').optional(),
    order: z.enum(['asc', 'desc']).optional().describe('desc (newest first) by default; asc for JSON Lines'),
    format: z.enum(['json', 'jsonl']).optional(),
  })
  .strict();

const AuditRecordSchema = z.object({
  seq: z.number().int(),
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(AUDIT_OUTCOMES),
  source: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  requestId: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
const AuditPageSchema = z.object({ items: z.array(AuditRecordSchema), nextCursor: z.string().optional() });

/** The routes of the audit log. */
export const AUDIT_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/audit',
    permission: 'audit:read',
    summary: `The audit log: filtered, newest first in pages, or every matching record as JSON Lines (Accept: ${JSON_LINES} or format=jsonl)`,
    tags: ['audit'],
    query: AuditQuerySchema,
    reply: AuditPageSchema,
    errors: ['BAD_REQUEST', 'STORE_UNAVAILABLE', 'UNSUPPORTED'],
    handler: async ({ query: q, request, reply }, { auditLog }) => {
      if (auditLog === undefined) throw new StratumError('UNSUPPORTED', 'this server keeps no audit log');
      const { format, resource, ...rest } = q;
      const query: AuditQuery = Object.fromEntries(
        Object.entries({ ...rest, resourcePrefix: resource }).filter(([, value]) => value !== undefined),
      );
      const accept = request.headers.accept ?? '';
      if (format === 'jsonl' || (format === undefined && accept.includes(JSON_LINES))) {
        return reply.header('content-type', JSON_LINES).send(Readable.from(auditJsonLines(auditLog, query)));
      }
      return auditLog.list(query);
    },
  }),
];
