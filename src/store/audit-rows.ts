/**
 * The audit log on SQL (`audit_log`, migration 010), on both engines. An append is its own short
 * transaction: it advances the 'audit' counter row first — on PostgreSQL that row lock makes
 * concurrent appenders (other requests, other replicas) wait their turn, on SQLite BEGIN IMMEDIATE
 * already does — then reads the previous record's hash and inserts the sealed record. Appends do
 * not take the change-feed lock and are not on the change feed: nothing reconciles on them.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import { type AuditOutcome, type AuditRecord, GENESIS_HASH, sealAuditRecord } from '../audit/audit-record.ts';
import { StratumError } from '../errors/index.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage, type SqlFilter } from './select-page.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';
import { toJson } from './store-rows.ts';

/** An `audit_log` row. */
interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome: string;
  readonly source: string | null;
  readonly before_state: string;
  readonly after_state: string;
  readonly request_id: string | null;
  readonly prev_hash: string;
  readonly hash: string;
}
const COLUMNS =
  'seq, at, actor, action, resource, outcome, source, before_state, after_state, request_id, prev_hash, hash';

/** A row as it is stored: a tampered row is read as it is, for the verifier to judge. */
function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    time: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    action: row.action,
    resource: row.resource,
    outcome: row.outcome as AuditOutcome,
    source: row.source,
    before: JSON.parse(row.before_state) as unknown,
    after: JSON.parse(row.after_state) as unknown,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The hash of the record before `seq`; after tampering, of the nearest one before it. */
async function previousHash(tx: SqlExecutor, seq: number): Promise<string> {
  const [row] = await tx.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1', [
    seq,
  ]);
  return row?.hash ?? GENESIS_HASH;
}

/** The store-backed audit log. */
export function auditLogOnSql(driver: SqlDriver): AuditLog {
  return {
    append: async (entry) => {
      await driver.transaction(async (tx) => {
        const [counter] = await tx.query<{ value: number }>(
          "UPDATE store_counters SET value = value + 1 WHERE name = 'audit' RETURNING value",
        );
        if (counter === undefined) {
          throw new StratumError('INTERNAL', 'store_counters has no audit row: the database is not migrated');
        }
        const seq = Number(counter.value);
        const record = sealAuditRecord(entry, { seq, time: new Date(), prevHash: await previousHash(tx, seq) });
        await tx.execute(`INSERT INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.seq,
          Date.parse(record.time),
          record.actor,
          record.action,
          record.resource,
          record.outcome,
          record.source,
          toJson(record.before),
          toJson(record.after),
          record.requestId,
          record.prevHash,
          record.hash,
        ]);
      });
    },

    head: async () => {
      const [row] = await driver.query<{ value: number }>("SELECT value FROM store_counters WHERE name = 'audit'");
      return Number(row?.value ?? 0);
    },

    read: async ({ afterSeq, limit }) => {
      const rows = await driver.query<AuditRow>(`SELECT ${COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, [
        afterSeq,
        limit,
      ]);
      return rows.map(toAuditRecord);
    },

    list: async (query = {}) => {
      const prefix = query.resourcePrefix;
      const filters: SqlFilter[] = [
        { sql: 'actor = ?', value: query.actor },
        { sql: 'action = ?', value: query.action },
        { sql: 'outcome = ?', value: query.outcome },
        { sql: 'at >= ?', value: query.since },
        { sql: 'at < ?', value: query.until },
        // substr, not LIKE: LIKE is case-insensitive on SQLite and would need its wildcards escaped.
        // Both engines count characters, hence the code-point length.
        { sql: `substr(resource, 1, ${prefix === undefined ? 0 : [...prefix].length}) = ?`, value: prefix },
      ];
      const descending = (query.order ?? 'desc') === 'desc';
      return selectPage(driver, {
        columns: COLUMNS,
        from: 'audit_log',
        filters,
        orderBy: { column: 'seq', descending, key: (row: AuditRow) => Number(row.seq) },
        page: pageRequest(query, 'number'),
        map: toAuditRecord,
      });
    },
  };
}
