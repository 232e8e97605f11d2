/**
 * Aliases on SQL: the `aliases` rows, their history in `alias_events`, the mapping to the
 * contract's records, and the store methods, on the same `write` (one transaction, one change
 * record) as the rest of the store. Every move or delete records one event whose id is the write's
 * change number; the move itself is `alias-move.ts`, shared with a version registered together
 * with its alias.
 */
import { StratumError } from '../errors/index.ts';
import type { AliasEvent, AliasMove, AliasRecord, MetadataStore } from './metadata-store.ts';
import {
  ALIAS_COLUMNS,
  ALIAS_EVENT_COLUMNS,
  type AliasEventRow,
  type AliasRow,
  aliasRow,
  insertAliasEvent,
  moveAlias,
} from './alias-move.ts';
import { requireModel } from './model-rows.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import { checkRevision, inUse, quote } from './store-errors.ts';
import type { RowMethodsOptions } from './store-rows.ts';
import { requireVersion } from './version-rows.ts';

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
    forced: row.forced === 1,
  };
}

function aliasNotFound(model: string, alias: string): StratumError {
  return new StratumError('ALIAS_NOT_FOUND', `model ${quote(model)} has no alias ${quote(alias)}`, {
    details: { model, alias },
  });
}

type AliasMethods = Pick<MetadataStore, 'setAlias' | 'getAlias' | 'listAliases' | 'deleteAlias' | 'aliasHistory'>;

/** The alias methods of the SQL store. */
export function aliasMethods(options: RowMethodsOptions): AliasMethods {
  const { driver, write } = options;
  return {
    setAlias: (move: AliasMove) =>
      write({ kind: 'alias', name: move.model }, async (tx, seq) => {
        await requireVersion(tx, { model: move.model, version: move.version });
        return moveAlias(tx, { seq, move });
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
          forced: 0,
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
