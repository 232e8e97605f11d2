/**
 * The one alias write: create or move an alias inside a write transaction and record the move in
 * `alias_events` (id = the write's change number). `alias-rows.ts` uses it for `setAlias`, and
 * `version-rows.ts` for a version registered together with its alias, so that the version and the
 * alias move commit or fail as one.
 */
import type { AliasMove, AliasRecord } from './metadata-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { checkRevision, quote } from './store-errors.ts';

/** An `aliases` row. */
export interface AliasRow {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly revision: number;
  readonly updated_at: number;
  readonly updated_by: string;
}
export const ALIAS_COLUMNS = 'model, alias, version, revision, updated_at, updated_by';

/** An `alias_events` row. */
export interface AliasEventRow {
  readonly id: number;
  readonly model: string;
  readonly alias: string;
  readonly from_version: number | null;
  readonly to_version: number | null;
  readonly actor: string;
  readonly created_at: number;
  readonly reason: string;
  /** 0 or 1. */
  readonly forced: number;
}
export const ALIAS_EVENT_COLUMNS = 'id, model, alias, from_version, to_version, actor, created_at, reason, forced';

/** The alias's row, if it exists. */
export async function aliasRow(db: SqlExecutor, key: { model: string; alias: string }): Promise<AliasRow | undefined> {
  const [row] = await db.query<AliasRow>(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE model = ? AND alias = ?`, [
    key.model,
    key.alias,
  ]);
  return row;
}

/** Records one move of an alias; its id is the write's change number (see `StoreWrite`). */
export async function insertAliasEvent(db: SqlExecutor, event: AliasEventRow): Promise<void> {
  await db.execute(`INSERT INTO alias_events (${ALIAS_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    event.id,
    event.model,
    event.alias,
    event.from_version,
    event.to_version,
    event.actor,
    event.created_at,
    event.reason,
    event.forced,
  ]);
}

/**
 * Creates or moves the alias and records the move, inside the caller's transaction. The target
 * version must exist (the caller checks it, or has just written it); PRECONDITION_FAILED when
 * `expectedRevision` is stale.
 */
export async function moveAlias(tx: SqlExecutor, options: { seq: number; move: AliasMove }): Promise<AliasRecord> {
  const { seq, move } = options;
  const current = await aliasRow(tx, move);
  checkRevision(`alias ${quote(move.alias)} of ${quote(move.model)}`, {
    expected: move.expectedRevision,
    actual: current?.revision ?? 0,
  });
  const record: AliasRecord = {
    model: move.model,
    alias: move.alias,
    version: move.version,
    revision: (current?.revision ?? 0) + 1,
    updatedAt: Date.now(),
    updatedBy: move.by,
  };
  if (current === undefined) {
    await tx.execute(`INSERT INTO aliases (${ALIAS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [
      record.model,
      record.alias,
      record.version,
      record.revision,
      record.updatedAt,
      record.updatedBy,
    ]);
  } else {
    await tx.execute(
      'UPDATE aliases SET version = ?, revision = ?, updated_at = ?, updated_by = ? WHERE model = ? AND alias = ?',
      [record.version, record.revision, record.updatedAt, record.updatedBy, record.model, record.alias],
    );
  }
  await insertAliasEvent(tx, {
    id: seq,
    model: move.model,
    alias: move.alias,
    from_version: current?.version ?? null,
    to_version: move.version,
    actor: move.by,
    created_at: record.updatedAt,
    reason: move.reason ?? '',
    forced: move.forced === true ? 1 : 0,
  });
  return record;
}
