/**
 * The server's side of a front end's inference call: the same access check, span, inference and
 * error reply as the server's own HTTP route, on a request the front end has already decoded.
 */
import type { AuditSink } from '../../audit/audit-sink.ts';
import type { Logger } from '../../logging/logger.ts';
import { recordDenied } from '../denied-requests.ts';
import { errorReplyParts, normaliseHttpError } from '../http/error-reply.ts';
import type { ServingContext } from '../http/route-context.ts';
import { INFER_PERMISSION, runRestInfer } from '../http/serving-routes.ts';
import type { Authorizer } from '../permissions.ts';
import type { InferAnswer, InferCall } from './front-end-messages.ts';

/** What answering needs. */
export interface InferCallContext extends Pick<ServingContext, 'service' | 'tracing'> {
  readonly authorizer: Authorizer;
  readonly logger: Logger;
  readonly audit?: AuditSink;
  readonly bodyLimitBytes: number;
}

/** Answers one call; never throws (every failure is an error reply). */
export async function answerInferCall(call: InferCall, context: InferCallContext): Promise<InferAnswer> {
  const headers: Record<string, string> = {};
  let release: (() => void) | undefined;
  try {
    try {
      const granted = await context.authorizer({
        permission: INFER_PERMISSION,
        headers: call.headers,
        model: call.model,
      });
      release = granted.release;
    } catch (error) {
      recordDenied(context.audit, context.logger, {
        error,
        resource: `POST ${call.url}`,
        ...(call.source !== undefined && { source: call.source }),
        requestId: call.requestId,
      });
      throw error;
    }
    const response = await runRestInfer(
      {
        model: call.model,
        ...(call.version !== undefined && { version: call.version }),
        headers: call.headers,
        url: call.url,
        decode: () => call.request,
      },
      context,
      (traceparent) => (headers['traceparent'] = traceparent),
    );
    return { id: call.id, ok: true, response, headers };
  } catch (error) {
    const parts = errorReplyParts(
      normaliseHttpError(error, { bodyLimitBytes: context.bodyLimitBytes }),
      context.logger,
      call.url,
    );
    return {
      id: call.id,
      ok: false,
      status: parts.status,
      headers: { ...headers, ...parts.headers },
      body: parts.body,
    };
  } finally {
    release?.();
  }
}
