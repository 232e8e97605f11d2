/**
 * Models on SQL: the `models` rows and their tags, the mapping to the contract's records, and the
 * store methods, on the same `write` (one transaction, one change record) as the rest of the store.
 * The other row modules look models up through {@link requireModel}.
 */
import { StratumError } from '../errors/index.ts';
import type { MetadataStore, ModelRecord, NewModel } from './metadata-store.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { inUse, quote } from './store-errors.ts';
import { fromJson, type RowMethodsOptions, toJson, unique } from './store-rows.ts';

/** A `models` row. */
interface ModelRow {
  readonly name: string;
  readonly description: string;
  readonly tags: string;
  readonly created_at: number;
  readonly created_by: string;
  readonly updated_at: number;
}
const MODEL_COLUMNS = 'name, description, tags, created_at, created_by, updated_at';

/** Maps a `models` row. */
function toModel(row: ModelRow): ModelRecord {
  return {
    name: row.name,
    description: row.description,
    tags: fromJson<string[]>(row.tags),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
  };
}

/** MODEL_NOT_FOUND naming the model. */
export function modelNotFound(model: string): StratumError {
  return new StratumError('MODEL_NOT_FOUND', `model ${quote(model)} does not exist`, { details: { model } });
}

async function modelRow(db: SqlExecutor, name: string): Promise<ModelRow | undefined> {
  const [row] = await db.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM models WHERE name = ?`, [name]);
  return row;
}

/** The model's row; MODEL_NOT_FOUND when there is none. */
export async function requireModel(db: SqlExecutor, name: string): Promise<ModelRecord> {
  const row = await modelRow(db, name);
  if (row === undefined) throw modelNotFound(name);
  return toModel(row);
}

/** Replaces the rows of a tag table (`model_tags` by model, `version_tags` by model and version). */
export async function replaceTags(
  db: SqlExecutor,
  target: { table: 'model_tags' | 'version_tags'; key: readonly SqlValue[]; tags: readonly string[] },
): Promise<void> {
  const columns = target.table === 'model_tags' ? ['model'] : ['model', 'version'];
  const match = columns.map((column) => `${column} = ?`).join(' AND ');
  await db.execute(`DELETE FROM ${target.table} WHERE ${match}`, target.key);
  const placeholders = [...columns, 'tag'].map(() => '?').join(', ');
  for (const tag of target.tags) {
    await db.execute(`INSERT INTO ${target.table} (${columns.join(', ')}, tag) VALUES (${placeholders})`, [
      ...target.key,
      tag,
    ]);
  }
}

// LIKE treats % and _ as wildcards; the backslash is the escape character declared in the query.
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

type ModelMethods = Pick<MetadataStore, 'createModel' | 'getModel' | 'listModels' | 'updateModel' | 'deleteModel'>;

/** The model methods of the SQL store. */
export function modelMethods(options: RowMethodsOptions): ModelMethods {
  const { driver, write } = options;
  return {
    createModel: (model: NewModel) =>
      write({ kind: 'model', name: model.name }, async (tx) => {
        if ((await modelRow(tx, model.name)) !== undefined) {
          throw new StratumError('ALREADY_EXISTS', `model ${quote(model.name)} already exists`, {
            details: { model: model.name },
          });
        }
        const now = Date.now();
        const record: ModelRecord = {
          name: model.name,
          description: model.description ?? '',
          tags: unique(model.tags ?? []),
          createdAt: now,
          createdBy: model.by,
          updatedAt: now,
        };
        await tx.execute(
          'INSERT INTO models (name, description, tags, created_at, created_by, updated_at, last_version) VALUES (?, ?, ?, ?, ?, ?, 0)',
          [record.name, record.description, toJson(record.tags), now, record.createdBy, now],
        );
        await replaceTags(tx, { table: 'model_tags', key: [record.name], tags: record.tags });
        return record;
      }),

    getModel: (name) => requireModel(driver, name),

    listModels: async (options) => {
      const nameContains = options?.nameContains;
      return selectPage(driver, {
        columns: MODEL_COLUMNS,
        from: 'models m',
        filters: [
          {
            sql: "LOWER(m.name) LIKE ? ESCAPE '\\'",
            value: nameContains === undefined || nameContains === '' ? undefined : likeContains(nameContains),
          },
          { sql: 'EXISTS (SELECT 1 FROM model_tags t WHERE t.model = m.name AND t.tag = ?)', value: options?.tag },
        ],
        orderBy: { column: 'm.name', descending: false, key: (row: ModelRow) => row.name },
        page: pageRequest(options, 'string'),
        map: toModel,
      });
    },

    updateModel: (name, patch) =>
      write({ kind: 'model', name }, async (tx) => {
        const current = await requireModel(tx, name);
        const record: ModelRecord = {
          ...current,
          description: patch.description ?? current.description,
          tags: patch.tags === undefined ? current.tags : unique(patch.tags),
          updatedAt: Date.now(),
        };
        await tx.execute('UPDATE models SET description = ?, tags = ?, updated_at = ? WHERE name = ?', [
          record.description,
          toJson(record.tags),
          record.updatedAt,
          name,
        ]);
        if (patch.tags !== undefined) await replaceTags(tx, { table: 'model_tags', key: [name], tags: record.tags });
        return record;
      }),

    deleteModel: (name) =>
      write({ kind: 'model', name }, async (tx) => {
        await requireModel(tx, name);
        const versions = await tx.query<{ version: number }>(
          'SELECT version FROM versions WHERE model = ? ORDER BY version',
          [name],
        );
        const deployments = await tx.query<{ name: string }>(
          'SELECT name FROM deployments WHERE model = ? ORDER BY name',
          [name],
        );
        if (versions.length > 0 || deployments.length > 0) {
          throw inUse(`model ${quote(name)}`, {
            versions: versions.map((row) => row.version),
            deployments: deployments.map((row) => row.name),
            details: { model: name },
          });
        }
        // With no version left there is no alias either; the alias history goes with the model.
        await tx.execute('DELETE FROM alias_events WHERE model = ?', [name]);
        await tx.execute('DELETE FROM model_tags WHERE model = ?', [name]);
        await tx.execute('DELETE FROM models WHERE name = ?', [name]);
      }),
  };
}
