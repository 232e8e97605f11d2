/**
 * Records a request the authorizer refused (401 or 403) in the audit log, off the request's path:
 * the append is not awaited and its failure is only logged, so a slow or broken audit log never
 * delays or fails a reply.
 */
import type { AuditSink } from '../audit/audit-sink.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';

/** What is known of a refused request. */
export interface DeniedRequest {
  /** What the authorizer threw. */
  readonly error: unknown;
  /** `GET /api/v1/models`, `grpc ModelInfer`. */
  readonly resource: string;
  /** The client's address. */
  readonly source?: string;
  readonly requestId?: string;
}

/** Appends `request.denied` when `error` is a refusal (UNAUTHENTICATED or PERMISSION_DENIED). */
export function recordDenied(audit: AuditSink | undefined, logger: Logger, denied: DeniedRequest): void {
  const { error } = denied;
  if (audit === undefined || !(error instanceof StratumError)) return;
  if (error.code !== 'UNAUTHENTICATED' && error.code !== 'PERMISSION_DENIED') return;
  const principal = error.details?.['principal'];
  audit
    .append({
      actor: typeof principal === 'string' ? principal : 'anonymous',
      action: 'request.denied',
      resource: denied.resource,
      outcome: 'denied',
      after: { code: error.code, reason: error.message },
      ...(denied.source !== undefined && { source: denied.source }),
      ...(denied.requestId !== undefined && { requestId: denied.requestId }),
    })
    .catch((failure: unknown) => logger.warn({ err: failure }, 'could not record a denied request in the audit log'));
}
