/**
 * Small helpers of the management API: JSON bodies validated by zod, query parameters, ETags and
 * the actor a change is recorded under.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { formatIssues } from '../../errors/format-issues.ts';
import type { Page } from '../../store/metadata-store.ts';

/** Parses the body as JSON and validates it. */
export function jsonBody<S extends z.ZodType>(request: FastifyRequest, schema: S): z.infer<S> {
  const body = request.body;
  let json: unknown = {};
  if (Buffer.isBuffer(body) && body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new StratumError('INVALID_JSON', `the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  return validate(schema, json, 'body');
}

/** Validates a value (a body, a query) and reports every issue with its path. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/** A strong ETag for a revision. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/**
 * The revision an `If-Match` header demands: undefined when absent or `*`; `If-None-Match: *`
 * demands that the resource does not exist yet (revision 0).
 * @throws StratumError BAD_REQUEST when the header is not an ETag this API issued.
 */
export function expectedRevision(request: FastifyRequest): number | undefined {
  const noneMatch = request.headers['if-none-match'];
  if (noneMatch === '*') return 0;
  const raw = request.headers['if-match'];
  if (raw === undefined || raw === '*') return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(raw.trim());
  if (match === null) {
    throw new StratumError('BAD_REQUEST', `If-Match must be an ETag such as "3" as returned by a GET, got ${raw}`);
  }
  return Number(match[1]);
}

/**
 * Who a change is recorded under: the authenticated principal when security is on; otherwise (no
 * one authenticated) the `x-stratum-actor` header the CLI sends.
 */
export function actorOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal !== undefined && principal.kind !== 'anonymous') return principal.id;
  const raw = request.headers['x-stratum-actor'];
  const actor = Array.isArray(raw) ? raw[0] : raw;
  return actor !== undefined && actor.length > 0 && actor.length <= 128 ? actor : 'anonymous';
}

/**
 * A resource with its ETag: sets the status and the header and returns the body for the route to
 * send (after its audit record is appended, so a client that reads the log next finds it).
 */
export function sendWithEtag<T>(reply: FastifyReply, options: { revision: number; body: T; status?: number }): T {
  reply.code(options.status ?? 200).header('etag', etagOf(options.revision));
  return options.body;
}

/**
 * Runs a conditional write; a stale revision is reported in the terms the caller used (the
 * If-Match ETag), with the store's account of where the resource is now.
 */
export async function ifMatch<T>(expected: number | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof StratumError && error.code === 'PRECONDITION_FAILED' && expected !== undefined) {
      const given = expected === 0 ? 'If-None-Match: *' : `If-Match ${etagOf(expected)}`;
      throw new StratumError('PRECONDITION_FAILED', `${given} is stale: ${error.message}`, {
        ...(error.details !== undefined && { details: error.details }),
        cause: error,
      });
    }
    throw error;
  }
}

/** A store page as the API shows it: `{ items, nextCursor? }`. */
export function page<T, U>(result: Page<T>, map: (item: T) => U): { items: U[]; nextCursor?: string } {
  return { items: result.items.map(map), ...(result.nextCursor !== undefined && { nextCursor: result.nextCursor }) };
}
