/**
 * How a change made through an HTTP route is recorded in the audit log. Each mutating route
 * declares its audit next to its permission (`audit: { action, resource, state }`, or `false` for
 * a POST that changes nothing, such as an inference), and `registerRoutes` runs the handler through
 * {@link runAudited}: the resource's state is read before the change, the handler runs, and one
 * record says who (`request.principal`), what, to what, from where, the outcome and the state
 * before and after. A test walks the route table so that a new mutating route cannot forget it.
 *
 * The record is appended after the change, not in its transaction: the registry and the queues
 * write through their own stores (a job may live in Redis), so there is no one transaction to
 * share. A failed append is therefore never silent — it is logged at error level with the whole
 * entry and counted in `stratum_audit_append_failures_total` — but it does not fail the request,
 * whose change is already made (a 500 would invite a retry of a change that happened).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import type { AuditEntryInput, AuditSink } from '../../audit/audit-sink.ts';
import type { Logger } from '../../logging/logger.ts';

/** What a route's audit functions see: the validated request parts. */
export interface AuditedInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly request: FastifyRequest;
}

/** A mutating route's audit declaration. */
export interface RouteAudit<Ctx = never, P = never, Q = never, B = never> {
  /** `<resource kind>.<verb>`: `alias.set`, `version.register`, `job.cancel`. */
  readonly action: string;
  /**
   * The resource as a path (`models/iris/aliases/production`); `result` is the handler's value when
   * it succeeded (a new version's number, a new job's id), undefined when it failed.
   */
  readonly resource: (input: AuditedInput<P, Q, B>, result: unknown) => string;
  /**
   * Reads the resource's current state; called before the change (`before`) and, when the handler
   * returns nothing to record, after it (`after`). A state that cannot be read (not found) is null.
   * @default none: `before` is null and `after` is the handler's value
   */
  readonly state?: (input: AuditedInput<P, Q, B>, context: Ctx) => Promise<unknown>;
}

/** Appends route records; never throws. */
export interface AuditRecorder {
  record(entry: AuditEntryInput): Promise<void>;
}

/** Options of {@link createAuditRecorder}. */
export interface AuditRecorderOptions {
  readonly sink: AuditSink;
  readonly logger: Logger;
  /** Where `stratum_audit_append_failures_total` is registered. @default not counted */
  readonly metrics?: MetricsRegistry;
}

/** The recorder of a server: appends, and logs and counts an append that fails. */
export function createAuditRecorder(options: AuditRecorderOptions): AuditRecorder {
  const { sink, logger } = options;
  const failures =
    options.metrics === undefined
      ? undefined
      : new Counter({
          name: 'stratum_audit_append_failures_total',
          help: 'Audit records that could not be appended (the change was made; the record is in the error log)',
          labelNames: ['action'],
          registers: [options.metrics],
        });
  return {
    record: async (entry) => {
      try {
        await sink.append(entry);
      } catch (error) {
        failures?.inc({ action: entry.action });
        logger.error({ err: error, audit: entry }, 'audit record could not be appended: the change was made');
      }
    },
  };
}

/** One audited handler run. */
export interface AuditedRun<Ctx> {
  readonly audit: RouteAudit<Ctx, unknown, unknown, unknown>;
  readonly input: AuditedInput<unknown, unknown, unknown> & { readonly reply: FastifyReply };
  readonly context: Ctx;
  readonly recorder: AuditRecorder;
}

/** Runs `handler` and records the change it made (or the failure) before the reply is sent. */
export async function runAudited<Ctx>(run: AuditedRun<Ctx>, handler: () => Promise<unknown>): Promise<unknown> {
  const { audit, input, context, recorder } = run;
  const { request } = input;
  const before = audit.state === undefined ? null : await readState(() => audit.state?.(input, context));
  const entry = (outcome: 'ok' | 'failed', result: unknown, after: unknown): AuditEntryInput => ({
    actor: request.principal?.id ?? 'anonymous',
    action: audit.action,
    resource: audit.resource(input, result),
    outcome,
    source: request.ip,
    requestId: String(request.id),
    before,
    after,
  });
  let result: unknown;
  try {
    result = await handler();
  } catch (error) {
    await recorder.record(entry('failed', undefined, null));
    throw error;
  }
  const returned = result !== undefined && result !== input.reply;
  const after = returned
    ? result
    : audit.state === undefined
      ? null
      : await readState(() => audit.state?.(input, context));
  await recorder.record(entry('ok', returned ? result : undefined, after));
  return result;
}

/** A state read that fails (the resource does not exist yet, or any more) records null. */
async function readState(read: () => Promise<unknown> | undefined): Promise<unknown> {
  try {
    return (await read()) ?? null;
  } catch {
    return null;
  }
}
