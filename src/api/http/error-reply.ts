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

/** Sends an error reply. */
export function sendError(reply: FastifyReply, error: StratumError, logger: Logger): FastifyReply {
  if (error.status >= 500 && error.code === 'INTERNAL') {
    logger.error({ err: error.cause ?? error, url: reply.request.url }, 'internal error');
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error: error.message, code: error.code }));
}
