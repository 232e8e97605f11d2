/**
 * The audit log as the rest of Stratum sees it: a sink to append to, a query for the API, and the
 * ordered read the chain verifier walks. The metadata store implements it on both engines
 * (`src/store/audit-rows.ts`).
 */
import type { AuditOutcome, AuditRecord } from './audit-record.ts';
import type { AuditSink } from './audit-sink.ts';
import type { AuditChainSource } from './verify-chain.ts';

/** Filters and paging of {@link AuditLog.list}; every filter is optional and they combine with AND. */
export interface AuditQuery {
  /** Exactly this actor (`key:ci`, `jwt:alice`, `cli:bob`, `anonymous`). */
  readonly actor?: string;
  /** Exactly this action (`alias.set`). */
  readonly action?: string;
  /** Resources starting with this (`models/iris/` for everything under the model). */
  readonly resourcePrefix?: string;
  readonly outcome?: AuditOutcome;
  /** Appended at or after this time (epoch ms). */
  readonly since?: number;
  /** Appended before this time (epoch ms). */
  readonly until?: number;
  /** `desc`: newest first. @default 'desc' */
  readonly order?: 'asc' | 'desc';
  /** @default 50, at most 1000 */
  readonly limit?: number;
  /** The `nextCursor` of the previous page (of the same query). */
  readonly cursor?: string;
}

/** One page of records. */
export interface AuditPage {
  readonly items: readonly AuditRecord[];
  /** Present when another page follows. */
  readonly nextCursor?: string;
}

/** The store-backed, hash-chained audit log. */
export interface AuditLog extends AuditSink, AuditChainSource {
  /** Records matching `query`, one page. */
  list(query?: AuditQuery): Promise<AuditPage>;
}
