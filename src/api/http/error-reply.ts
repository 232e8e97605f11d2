/**
 * Turns anything thrown in a request into the protocol's `{"error": "<message>"}` with the right
 * status. Unknown throwables are logged and become an opaque 500.
 */
import type { FastifyError, FastifyReply } from 'fastify';
import { StratumError, toStratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';

// Fastify's own errors that are the client's fault, mapped to catalogue codes.
const FASTIFY_CODES: Readonly<Record<string, StratumError['code']>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

/** Normalises a thrown value at the HTTP boundary. */
export function normaliseHttpError(error: unknown, limits: { bodyLimitBytes: number }): StratumError {
  if (error instanceof StratumError) return error;
  const fastifyCode = (error as FastifyError | undefined)?.code;
  const mapped = fastifyCode === undefined ? undefined : FASTIFY_CODES[fastifyCode];
  if (mapped === 'BODY_TOO_LARGE') {
    return new StratumError('BODY_TOO_LARGE', `the request body is over the ${limits.bodyLimitBytes}-byte limit`);
  }
  if (mapped !== undefined) return new StratumError(mapped, (error as Error).message);
  const status = (error as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new StratumError('BAD_REQUEST', (error as Error).message);
  }
  return toStratumError(error);
}

/** The status, headers and body of an error reply, for any transport that writes HTTP. */
export interface ErrorReplyParts {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Builds an error reply; internal errors are logged here, once. */
export function errorReplyParts(error: StratumError, logger: Logger, url: string): ErrorReplyParts {
  if (error.status >= 500 && error.code === 'INTERNAL') {
    logger.error({ err: error.cause ?? error, url }, 'internal error');
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return { status: error.status, headers, body: JSON.stringify({ error: error.message, code: error.code }) };
}

/** Sends an error reply. */
export function sendError(reply: FastifyReply, error: StratumError, logger: Logger): FastifyReply {
  const parts = errorReplyParts(error, logger, reply.request.url);
  return reply.code(parts.status).headers(parts.headers).send(parts.body);
}
