/**
 * Aliases on SQL: the `aliases` rows, their history in `alias_events`, the mapping to the
 * contract's records, and the store methods, on the same `write` (one transaction, one change
 * record) as the rest of the store. Every move or delete records one event whose id is the write's
 * change number.
 */
import { StratumError } from '../errors/index.ts';
import type { AliasEvent, AliasMove, AliasRecord, MetadataStore } from './metadata-store.ts';
import { requireModel } from './model-rows.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { checkRevision, inUse, quote } from './store-errors.ts';
import type { RowMethodsOptions } from './store-rows.ts';
import { requireVersion } from './version-rows.ts';

/** An `aliases` row. */
interface AliasRow {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly revision: number;
  readonly updated_at: number;
  readonly updated_by: string;
}
const ALIAS_COLUMNS = 'model, alias, version, revision, updated_at, updated_by';

/** An `alias_events` row. */
interface AliasEventRow {
  readonly id: number;
  readonly model: string;
  readonly alias: string;
  readonly from_version: number | null;
  readonly to_version: number | null;
  readonly actor: string;
  readonly created_at: number;
  readonly reason: string;
}
const ALIAS_EVENT_COLUMNS = 'id, model, alias, from_version, to_version, actor, created_at, reason';

/** Maps an `aliases` row. */
function toAlias(row: AliasRow): AliasRecord {
  return {
    model: row.model,
    alias: row.alias,
    version: row.version,
    revision: row.revision,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Maps an `alias_events` row. */
function toAliasEvent(row: AliasEventRow): AliasEvent {
  return {
    id: row.id,
    model: row.model,
    alias: row.alias,
    from: row.from_version,
    to: row.to_version,
    by: row.actor,
    at: row.created_at,
    reason: row.reason,
  };
}

function aliasNotFound(model: string, alias: string): StratumError {
  return new StratumError('ALIAS_NOT_FOUND', `model ${quote(model)} has no alias ${quote(alias)}`, {
    details: { model, alias },
  });
}

async function aliasRow(db: SqlExecutor, key: { model: string; alias: string }): Promise<AliasRow | undefined> {
  const [row] = await db.query<AliasRow>(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE model = ? AND alias = ?`, [
    key.model,
    key.alias,
  ]);
  return row;
}

/** Records one move of an alias; its id is the write's change number (see `StoreWrite`). */
async function insertAliasEvent(db: SqlExecutor, event: AliasEventRow): Promise<void> {
  await db.execute(
    'INSERT INTO alias_events (id, model, alias, from_version, to_version, actor, created_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [
      event.id,
      event.model,
      event.alias,
      event.from_version,
      event.to_version,
      event.actor,
      event.created_at,
      event.reason,
    ],
  );
}

type AliasMethods = Pick<MetadataStore, 'setAlias' | 'getAlias' | 'listAliases' | 'deleteAlias' | 'aliasHistory'>;

/** The alias methods of the SQL store. */
export function aliasMethods(options: RowMethodsOptions): AliasMethods {
  const { driver, write } = options;
  return {
    setAlias: (move: AliasMove) =>
      write({ kind: 'alias', name: move.model }, async (tx, seq) => {
        await requireVersion(tx, { model: move.model, version: move.version });
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
          await tx.execute(
            'INSERT INTO aliases (model, alias, version, revision, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)',
            [record.model, record.alias, record.version, record.revision, record.updatedAt, record.updatedBy],
          );
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
        });
        return record;
      }),

    getAlias: async (model, alias) => {
      const row = await aliasRow(driver, { model, alias });
      if (row !== undefined) return toAlias(row);
      await requireModel(driver, model);
      throw aliasNotFound(model, alias);
    },

    listAliases: async (model) => {
      await requireModel(driver, model);
      const rows = await driver.query<AliasRow>(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE model = ? ORDER BY alias`, [
        model,
      ]);
      return rows.map(toAlias);
    },

    deleteAlias: (deletion) =>
      write({ kind: 'alias', name: deletion.model }, async (tx, seq) => {
        const current = await aliasRow(tx, deletion);
        if (current === undefined) {
          await requireModel(tx, deletion.model);
          throw aliasNotFound(deletion.model, deletion.alias);
        }
        const what = `alias ${quote(deletion.alias)} of ${quote(deletion.model)}`;
        checkRevision(what, { expected: deletion.expectedRevision, actual: current.revision });
        const deployments = await tx.query<{ deployment: string }>(
          'SELECT deployment FROM deployment_alias_refs WHERE model = ? AND alias = ? ORDER BY deployment',
          [deletion.model, deletion.alias],
        );
        if (deployments.length > 0) {
          throw inUse(what, {
            deployments: deployments.map((row) => row.deployment),
            details: { model: deletion.model, alias: deletion.alias },
          });
        }
        await tx.execute('DELETE FROM aliases WHERE model = ? AND alias = ?', [deletion.model, deletion.alias]);
        await insertAliasEvent(tx, {
          id: seq,
          model: deletion.model,
          alias: deletion.alias,
          from_version: current.version,
          to_version: null,
          actor: deletion.by,
          created_at: Date.now(),
          reason: deletion.reason ?? '',
        });
      }),

    aliasHistory: async (history) => {
      const page = pageRequest(history, 'number');
      await requireModel(driver, history.model);
      return selectPage(driver, {
        columns: ALIAS_EVENT_COLUMNS,
        from: 'alias_events',
        filters: [
          { sql: 'model = ?', value: history.model },
          { sql: 'alias = ?', value: history.alias },
        ],
        orderBy: { column: 'id', descending: true, key: (row: AliasEventRow) => row.id },
        page,
        map: toAliasEvent,
      });
    },
  };
}
