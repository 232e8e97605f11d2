/**
 * One record of the audit log and its hash. The chain is what makes the log tamper-evident: each
 * record holds the hash of the one before it, so changing, deleting, inserting or reordering a
 * stored record breaks a link that `verifyAuditChain` finds.
 *
 * The hash is defined so that a tool outside Stratum can recompute it from an export (one JSON
 * object per line, `stratum audit export`):
 *
 * 1. take the record without its `hash` field: `seq`, `time`, `actor`, `action`, `resource`,
 *    `outcome`, `source`, `before`, `after`, `requestId`, `prevHash` (every one present; an absent
 *    value is `null`);
 * 2. serialise it canonically: JSON with no whitespace, object keys sorted at every depth (by UTF-16
 *    code unit, which is code-point order for keys without astral characters), strings and numbers
 *    as ECMAScript's `JSON.stringify` writes them (Python: `json.dumps(value, sort_keys=True,
 *    separators=(",", ":"), ensure_ascii=False)` agrees for integers and strings);
 * 3. `hash` = lowercase hex SHA-256 of that text's UTF-8 bytes.
 *
 * `prevHash` of the first record (`seq` 1) is {@link GENESIS_HASH}.
 */
import { createHash } from 'node:crypto';
import type { AuditEntryInput } from './audit-sink.ts';

/** `prevHash` of the first record: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The outcomes a record can have. */
export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What the hash covers: a record without its own hash. */
export interface UnhashedAuditRecord {
  /** Position in the chain: 1, 2, 3, … without gaps. */
  readonly seq: number;
  /** When it was appended, ISO 8601 UTC with milliseconds (`2026-12-05T03:04:05.678Z`). */
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome: AuditOutcome;
  readonly source: string | null;
  readonly before: unknown;
  readonly after: unknown;
  readonly requestId: string | null;
  /** The `hash` of record `seq - 1` ({@link GENESIS_HASH} for the first). */
  readonly prevHash: string;
}

/** A stored record. */
export interface AuditRecord extends UnhashedAuditRecord {
  /** SHA-256 (hex) of the canonical serialisation of every other field. */
  readonly hash: string;
}

/**
 * The record an entry becomes at position `seq` after `prevHash`. `before` and `after` go through
 * JSON once, so the hashed value is exactly what is stored and read back (no `undefined` fields,
 * no class instances, dates as strings).
 */
export function sealAuditRecord(
  entry: AuditEntryInput,
  position: { seq: number; time: Date; prevHash: string },
): AuditRecord {
  const unhashed: UnhashedAuditRecord = {
    seq: position.seq,
    time: position.time.toISOString(),
    actor: entry.actor,
    action: entry.action,
    resource: entry.resource,
    outcome: entry.outcome,
    source: entry.source ?? null,
    before: asJsonValue(entry.before),
    after: asJsonValue(entry.after),
    requestId: entry.requestId ?? null,
    prevHash: position.prevHash,
  };
  return { ...unhashed, hash: auditHash(unhashed) };
}

/** The hash of a record's fields (a stored `hash` field, if passed, is ignored). */
export function auditHash(record: UnhashedAuditRecord): string {
  const fields: Record<string, unknown> = {
    seq: record.seq,
    time: record.time,
    actor: record.actor,
    action: record.action,
    resource: record.resource,
    outcome: record.outcome,
    source: record.source,
    before: record.before,
    after: record.after,
    requestId: record.requestId,
    prevHash: record.prevHash,
  };
  return createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex');
}

/**
 * JSON with object keys sorted at every depth and no whitespace. `undefined` becomes `null` at
 * the top and in arrays and is left out of objects, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A value as JSON would carry it (`undefined` → null). */
function asJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
