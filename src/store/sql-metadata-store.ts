/**
 * The MetadataStore on SQL, one implementation for SQLite and PostgreSQL: the same statements run
 * on both. Every write is one transaction that starts by taking the next change number (the
 * writers' lock, see `change-feed.ts`), checks its preconditions, writes, and records the change;
 * a rejected write throws inside the transaction and so leaves nothing behind. Because writers are
 * serialised, reading a value and writing on the strength of it (the next version number, a
 * revision compare-and-set, an IN_USE check) cannot race on either engine.
 */
import type { Logger } from '../logging/logger.ts';
import { StratumError } from '../errors/index.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import { pollingOnlyNotifier } from './change-notifier.ts';
import { openChangeFeed } from './change-feed.ts';
import type {
  AliasMove,
  AliasRecord,
  DeploymentEvent,
  DeploymentRecord,
  DeploymentWrite,
  MetadataStore,
  ModelRecord,
  NewModel,
  NewVersion,
  StoreChange,
  VersionRecord,
} from './metadata-store.ts';
import { cursorKey, pageLimit, toPage } from './page-cursor.ts';
import { datasetMethods } from './dataset-rows.ts';
import { runMethods } from './run-rows.ts';
import type { SqlDriver, SqlExecutor, SqlValue } from './sql-driver.ts';
import {
  ALIAS_COLUMNS,
  ALIAS_EVENT_COLUMNS,
  type AliasEventRow,
  type AliasRow,
  DEPLOYMENT_COLUMNS,
  DEPLOYMENT_EVENT_COLUMNS,
  type DeploymentEventRow,
  type DeploymentRow,
  MODEL_COLUMNS,
  type ModelRow,
  toAlias,
  toAliasEvent,
  toDeployment,
  toDeploymentEvent,
  toJson,
  toModel,
  toVersion,
  VERSION_COLUMNS,
  type VersionRow,
} from './store-rows.ts';

/** Options of {@link createSqlMetadataStore}. */
export interface SqlMetadataStoreOptions {
  /** A migrated database. The store owns it from now on: `close()` closes it. */
  readonly driver: SqlDriver;
  /** Pushes changes to other processes. @default polling only */
  readonly notifier?: ChangeNotifier;
  /** How often `onChange` polls the database for other stores' changes (ms). @default 1000 */
  readonly pollMs?: number;
  readonly logger?: Logger;
}

const quote = (name: string): string => JSON.stringify(name);
const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

function modelNotFound(model: string): StratumError {
  return new StratumError('MODEL_NOT_FOUND', `model ${quote(model)} does not exist`, { details: { model } });
}

function versionNotFound(model: string, version: number): StratumError {
  return new StratumError('VERSION_NOT_FOUND', `version ${version} of model ${quote(model)} does not exist`, {
    details: { model, version },
  });
}

function aliasNotFound(model: string, alias: string): StratumError {
  return new StratumError('ALIAS_NOT_FOUND', `model ${quote(model)} has no alias ${quote(alias)}`, {
    details: { model, alias },
  });
}

function deploymentNotFound(deployment: string): StratumError {
  return new StratumError('DEPLOYMENT_NOT_FOUND', `deployment ${quote(deployment)} does not exist`, {
    details: { deployment },
  });
}

/** Throws PRECONDITION_FAILED unless `expected` is absent or equals `actual` (0: absent). */
function checkRevision(what: string, revisions: { expected: number | undefined; actual: number }): void {
  const { expected, actual } = revisions;
  if (expected === undefined || expected === actual) return;
  const message =
    actual === 0
      ? `${what} does not exist, but revision ${expected} was expected`
      : expected === 0
        ? `${what} already exists at revision ${actual}, but was expected not to exist`
        : `${what} is at revision ${actual}, not ${expected}; read it again and retry`;
  throw new StratumError('PRECONDITION_FAILED', message, {
    details: { expectedRevision: expected, revision: actual },
  });
}

interface Users {
  readonly versions?: readonly number[];
  readonly aliases?: readonly string[];
  readonly deployments?: readonly string[];
}

/** `alias "a" and deployments "x", "y"` */
function describeUsers(users: Users): string {
  const parts: string[] = [];
  const add = (singular: string, plural: string, names: readonly string[]): void => {
    if (names.length > 0) parts.push(`${names.length === 1 ? singular : plural} ${names.join(', ')}`);
  };
  add('version', 'versions', (users.versions ?? []).map(String));
  add('alias', 'aliases', (users.aliases ?? []).map(quote));
  add('deployment', 'deployments', (users.deployments ?? []).map(quote));
  return parts.join(' and ');
}

function inUse(what: string, users: Users & { readonly details: Record<string, unknown> }): StratumError {
  const { details, ...names } = users;
  return new StratumError('IN_USE', `${what} is in use by ${describeUsers(names)}`, {
    details: { ...details, ...names },
  });
}

function checkNewVersion(version: NewVersion): void {
  if (!Number.isSafeInteger(version.artifactSize) || version.artifactSize < 0) {
    throw new StratumError('BAD_REQUEST', `artifactSize must be a whole number of bytes, got ${version.artifactSize}`);
  }
  for (const [name, value] of Object.entries(version.metrics ?? {})) {
    if (!Number.isFinite(value)) {
      throw new StratumError('BAD_REQUEST', `metric ${quote(name)} must be a finite number, got ${value}`, {
        details: { metric: name },
      });
    }
  }
}

function checkStatus(status: string | undefined): void {
  if (status !== undefined && status !== 'ready' && status !== 'archived') {
    throw new StratumError('BAD_REQUEST', `status must be "ready" or "archived", got ${quote(status)}`);
  }
}

// LIKE treats % and _ as wildcards; the backslash is the escape character declared in the query.
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

async function modelRow(db: SqlExecutor, name: string): Promise<ModelRow | undefined> {
  const [row] = await db.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM models WHERE name = ?`, [name]);
  return row;
}

async function requireModel(db: SqlExecutor, name: string): Promise<ModelRow> {
  const row = await modelRow(db, name);
  if (row === undefined) throw modelNotFound(name);
  return row;
}

async function requireVersion(db: SqlExecutor, key: { model: string; version: number }): Promise<VersionRow> {
  const [row] = await db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM versions WHERE model = ? AND version = ?`, [
    key.model,
    key.version,
  ]);
  if (row !== undefined) return row;
  await requireModel(db, key.model);
  throw versionNotFound(key.model, key.version);
}

async function aliasRow(db: SqlExecutor, key: { model: string; alias: string }): Promise<AliasRow | undefined> {
  const [row] = await db.query<AliasRow>(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE model = ? AND alias = ?`, [
    key.model,
    key.alias,
  ]);
  return row;
}

async function deploymentRow(db: SqlExecutor, name: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.query<DeploymentRow>(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE name = ?`, [name]);
  return row;
}

async function requireDeployment(db: SqlExecutor, name: string): Promise<DeploymentRow> {
  const row = await deploymentRow(db, name);
  if (row === undefined) throw deploymentNotFound(name);
  return row;
}

async function replaceTags(
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

/** Checks a deployment's model and refs exist; returns the refs without repeats. */
async function checkDeploymentRefs(
  db: SqlExecutor,
  write: DeploymentWrite,
): Promise<{ versions: number[]; aliases: string[] }> {
  await requireModel(db, write.model);
  const versions = unique(write.versionRefs);
  const aliases = unique(write.aliasRefs);
  const existing = new Set(
    (await db.query<{ version: number }>('SELECT version FROM versions WHERE model = ?', [write.model])).map(
      (row) => row.version,
    ),
  );
  const missingVersion = versions.find((version) => !existing.has(version));
  if (missingVersion !== undefined) {
    throw new StratumError(
      'VERSION_NOT_FOUND',
      `deployment ${quote(write.name)} refers to version ${missingVersion} of model ${quote(write.model)}, which does not exist`,
      { details: { deployment: write.name, model: write.model, version: missingVersion } },
    );
  }
  const existingAliases = new Set(
    (await db.query<{ alias: string }>('SELECT alias FROM aliases WHERE model = ?', [write.model])).map(
      (row) => row.alias,
    ),
  );
  const missingAlias = aliases.find((alias) => !existingAliases.has(alias));
  if (missingAlias !== undefined) {
    throw new StratumError(
      'ALIAS_NOT_FOUND',
      `deployment ${quote(write.name)} routes through alias ${quote(missingAlias)} of model ${quote(write.model)}, which does not exist`,
      { details: { deployment: write.name, model: write.model, alias: missingAlias } },
    );
  }
  return { versions, aliases };
}

/** What every deployment write ends with: its reference rows, and its event if it has one. */
async function finishDeploymentWrite(
  db: SqlExecutor,
  options: {
    write: DeploymentWrite;
    record: DeploymentRecord;
    refs: { versions: readonly number[]; aliases: readonly string[] };
    seq: number;
  },
): Promise<void> {
  const { write, record, refs, seq } = options;
  await replaceDeploymentRefs(db, record, refs);
  if (write.event === undefined) return;
  await insertDeploymentEvent(db, {
    ...write.event,
    id: seq,
    deployment: record.name,
    by: write.by,
    at: record.updatedAt,
  });
}

async function replaceDeploymentRefs(
  db: SqlExecutor,
  deployment: { name: string; model: string },
  refs: { versions: readonly number[]; aliases: readonly string[] },
): Promise<void> {
  await db.execute('DELETE FROM deployment_version_refs WHERE deployment = ?', [deployment.name]);
  await db.execute('DELETE FROM deployment_alias_refs WHERE deployment = ?', [deployment.name]);
  for (const version of refs.versions) {
    await db.execute('INSERT INTO deployment_version_refs (deployment, model, version) VALUES (?, ?, ?)', [
      deployment.name,
      deployment.model,
      version,
    ]);
  }
  for (const alias of refs.aliases) {
    await db.execute('INSERT INTO deployment_alias_refs (deployment, model, alias) VALUES (?, ?, ?)', [
      deployment.name,
      deployment.model,
      alias,
    ]);
  }
}

/**
 * Event ids are the change number of the write that records them: unique, never reused after a
 * delete, ordered by commit, and free of any engine's auto-increment. A write records at most one
 * event per table.
 */
async function insertDeploymentEvent(
  db: SqlExecutor,
  event: Omit<DeploymentEvent, 'detail'> & { readonly detail?: unknown },
): Promise<DeploymentEvent> {
  const detail = event.detail ?? null;
  await db.execute(
    'INSERT INTO deployment_events (id, deployment, kind, message, detail, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [event.id, event.deployment, event.kind, event.message, toJson(detail), event.by, event.at],
  );
  return { ...event, detail };
}

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

/**
 * Creates the store on a migrated database.
 *
 * @example
 * const driver = openSqliteDriver({ path: '/var/lib/stratum/stratum.db' });
 * await migrate({ driver });
 * const store = await createSqlMetadataStore({ driver });
 */
export async function createSqlMetadataStore(options: SqlMetadataStoreOptions): Promise<MetadataStore> {
  const { driver, logger } = options;
  const feed = await openChangeFeed({
    driver,
    notifier: options.notifier ?? pollingOnlyNotifier,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(logger === undefined ? {} : { logger }),
  });
  let closing: Promise<void> | undefined;

  /** Runs one write: change number first, then `fn`, then the change record; listeners after commit. */
  async function write<T>(change: StoreChange, fn: (tx: SqlExecutor, seq: number) => Promise<T>): Promise<T> {
    const { result, seq } = await driver.transaction(async (tx) => {
      const seq = await feed.begin(tx);
      const result = await fn(tx, seq);
      await feed.record(tx, { ...change, seq });
      return { result, seq };
    });
    feed.committed({ ...change, seq });
    return result;
  }

  const store: MetadataStore = {
    engine: driver.engine,

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

    getModel: async (name) => toModel(await requireModel(driver, name)),

    listModels: async (options) => {
      const limit = pageLimit(options);
      const after = cursorKey(options, 'string');
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      if (after !== undefined) {
        conditions.push('m.name > ?');
        params.push(after);
      }
      if (options?.nameContains !== undefined && options.nameContains !== '') {
        conditions.push("LOWER(m.name) LIKE ? ESCAPE '\\'");
        params.push(likeContains(options.nameContains));
      }
      if (options?.tag !== undefined) {
        conditions.push('EXISTS (SELECT 1 FROM model_tags t WHERE t.model = m.name AND t.tag = ?)');
        params.push(options.tag);
      }
      const rows = await driver.query<ModelRow>(
        `SELECT ${MODEL_COLUMNS} FROM models m ${where(conditions)} ORDER BY m.name LIMIT ?`,
        [...params, limit + 1],
      );
      return toPage(rows, { limit, map: toModel, key: (model) => model.name });
    },

    updateModel: (name, patch) =>
      write({ kind: 'model', name }, async (tx) => {
        const row = await requireModel(tx, name);
        const current = toModel(row);
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

    createVersion: async (version: NewVersion) => {
      checkNewVersion(version);
      return write({ kind: 'version', name: version.model }, async (tx) => {
        // A per-model counter rather than MAX(version) + 1, so a deleted number is never handed out again.
        const [counter] = await tx.query<{ last_version: number }>(
          'UPDATE models SET last_version = last_version + 1 WHERE name = ? RETURNING last_version',
          [version.model],
        );
        if (counter === undefined) throw modelNotFound(version.model);
        const record: VersionRecord = {
          model: version.model,
          version: counter.last_version,
          artifactDigest: version.artifactDigest,
          artifactSize: version.artifactSize,
          signature: version.signature,
          metrics: { ...version.metrics },
          tags: unique(version.tags ?? []),
          description: version.description ?? '',
          status: 'ready',
          lineage: { ...version.lineage },
          createdAt: Date.now(),
          createdBy: version.by,
        };
        await tx.execute(`INSERT INTO versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.model,
          record.version,
          record.artifactDigest,
          record.artifactSize,
          toJson(record.signature),
          toJson(record.metrics),
          toJson(record.tags),
          record.description,
          record.status,
          toJson(record.lineage),
          record.createdAt,
          record.createdBy,
        ]);
        await replaceTags(tx, { table: 'version_tags', key: [record.model, record.version], tags: record.tags });
        return record;
      });
    },

    getVersion: async (model, version) => toVersion(await requireVersion(driver, { model, version })),

    listVersions: async (model, options) => {
      const limit = pageLimit(options);
      const before = cursorKey(options, 'number');
      checkStatus(options?.status);
      await requireModel(driver, model);
      const conditions = ['v.model = ?'];
      const params: SqlValue[] = [model];
      if (before !== undefined) {
        conditions.push('v.version < ?');
        params.push(before);
      }
      if (options?.status !== undefined) {
        conditions.push('v.status = ?');
        params.push(options.status);
      }
      if (options?.tag !== undefined) {
        conditions.push(
          'EXISTS (SELECT 1 FROM version_tags t WHERE t.model = v.model AND t.version = v.version AND t.tag = ?)',
        );
        params.push(options.tag);
      }
      const rows = await driver.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions v ${where(conditions)} ORDER BY v.version DESC LIMIT ?`,
        [...params, limit + 1],
      );
      return toPage(rows, { limit, map: toVersion, key: (record) => record.version });
    },

    updateVersion: async (model, version, patch) => {
      checkStatus(patch.status);
      return write({ kind: 'version', name: model }, async (tx) => {
        const current = toVersion(await requireVersion(tx, { model, version }));
        const record: VersionRecord = {
          ...current,
          status: patch.status ?? current.status,
          tags: patch.tags === undefined ? current.tags : unique(patch.tags),
          description: patch.description ?? current.description,
        };
        await tx.execute('UPDATE versions SET status = ?, tags = ?, description = ? WHERE model = ? AND version = ?', [
          record.status,
          toJson(record.tags),
          record.description,
          model,
          version,
        ]);
        if (patch.tags !== undefined) {
          await replaceTags(tx, { table: 'version_tags', key: [model, version], tags: record.tags });
        }
        return record;
      });
    },

    deleteVersion: (model, version) =>
      write({ kind: 'version', name: model }, async (tx) => {
        await requireVersion(tx, { model, version });
        const aliases = await tx.query<{ alias: string }>(
          'SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias',
          [model, version],
        );
        const deployments = await tx.query<{ deployment: string }>(
          'SELECT deployment FROM deployment_version_refs WHERE model = ? AND version = ? ORDER BY deployment',
          [model, version],
        );
        if (aliases.length > 0 || deployments.length > 0) {
          throw inUse(`version ${version} of ${quote(model)}`, {
            aliases: aliases.map((row) => row.alias),
            deployments: deployments.map((row) => row.deployment),
            details: { model, version },
          });
        }
        await tx.execute('DELETE FROM version_tags WHERE model = ? AND version = ?', [model, version]);
        await tx.execute('DELETE FROM versions WHERE model = ? AND version = ?', [model, version]);
      }),

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

    deleteAlias: (options) =>
      write({ kind: 'alias', name: options.model }, async (tx, seq) => {
        const current = await aliasRow(tx, options);
        if (current === undefined) {
          await requireModel(tx, options.model);
          throw aliasNotFound(options.model, options.alias);
        }
        const what = `alias ${quote(options.alias)} of ${quote(options.model)}`;
        checkRevision(what, { expected: options.expectedRevision, actual: current.revision });
        const deployments = await tx.query<{ deployment: string }>(
          'SELECT deployment FROM deployment_alias_refs WHERE model = ? AND alias = ? ORDER BY deployment',
          [options.model, options.alias],
        );
        if (deployments.length > 0) {
          throw inUse(what, {
            deployments: deployments.map((row) => row.deployment),
            details: { model: options.model, alias: options.alias },
          });
        }
        await tx.execute('DELETE FROM aliases WHERE model = ? AND alias = ?', [options.model, options.alias]);
        await insertAliasEvent(tx, {
          id: seq,
          model: options.model,
          alias: options.alias,
          from_version: current.version,
          to_version: null,
          actor: options.by,
          created_at: Date.now(),
          reason: options.reason ?? '',
        });
      }),

    aliasHistory: async (options) => {
      const limit = pageLimit(options);
      const before = cursorKey(options, 'number');
      await requireModel(driver, options.model);
      const conditions = ['model = ?'];
      const params: SqlValue[] = [options.model];
      if (options.alias !== undefined) {
        conditions.push('alias = ?');
        params.push(options.alias);
      }
      if (before !== undefined) {
        conditions.push('id < ?');
        params.push(before);
      }
      const rows = await driver.query<AliasEventRow>(
        `SELECT ${ALIAS_EVENT_COLUMNS} FROM alias_events ${where(conditions)} ORDER BY id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      return toPage(rows, { limit, map: toAliasEvent, key: (event) => event.id });
    },

    createDeployment: (deployment: DeploymentWrite) =>
      write({ kind: 'deployment', name: deployment.name }, async (tx, seq) => {
        if ((await deploymentRow(tx, deployment.name)) !== undefined) {
          throw new StratumError('ALREADY_EXISTS', `deployment ${quote(deployment.name)} already exists`, {
            details: { deployment: deployment.name },
          });
        }
        checkRevision(`deployment ${quote(deployment.name)}`, { expected: deployment.expectedRevision, actual: 0 });
        const refs = await checkDeploymentRefs(tx, deployment);
        const now = Date.now();
        const record: DeploymentRecord = {
          name: deployment.name,
          model: deployment.model,
          spec: deployment.spec ?? null,
          state: deployment.state ?? null,
          versionRefs: refs.versions,
          aliasRefs: refs.aliases,
          revision: 1,
          createdAt: now,
          updatedAt: now,
          updatedBy: deployment.by,
        };
        await tx.execute(`INSERT INTO deployments (${DEPLOYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.name,
          record.model,
          toJson(record.spec),
          toJson(record.state),
          toJson(record.versionRefs),
          toJson(record.aliasRefs),
          record.revision,
          now,
          now,
          record.updatedBy,
        ]);
        await finishDeploymentWrite(tx, { write: deployment, record, refs, seq });
        return record;
      }),

    getDeployment: async (name) => toDeployment(await requireDeployment(driver, name)),

    listDeployments: async (options) => {
      const limit = pageLimit(options);
      const after = cursorKey(options, 'string');
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      if (options?.model !== undefined) {
        conditions.push('model = ?');
        params.push(options.model);
      }
      if (after !== undefined) {
        conditions.push('name > ?');
        params.push(after);
      }
      const rows = await driver.query<DeploymentRow>(
        `SELECT ${DEPLOYMENT_COLUMNS} FROM deployments ${where(conditions)} ORDER BY name LIMIT ?`,
        [...params, limit + 1],
      );
      return toPage(rows, { limit, map: toDeployment, key: (deployment) => deployment.name });
    },

    updateDeployment: (deployment: DeploymentWrite) =>
      write({ kind: 'deployment', name: deployment.name }, async (tx, seq) => {
        const current = toDeployment(await requireDeployment(tx, deployment.name));
        checkRevision(`deployment ${quote(deployment.name)}`, {
          expected: deployment.expectedRevision,
          actual: current.revision,
        });
        if (deployment.model !== current.model) {
          throw new StratumError(
            'BAD_REQUEST',
            `deployment ${quote(deployment.name)} serves model ${quote(current.model)}, not ${quote(deployment.model)}; create a new deployment for another model`,
            { details: { deployment: deployment.name, model: current.model } },
          );
        }
        const refs = await checkDeploymentRefs(tx, deployment);
        const now = Date.now();
        const record: DeploymentRecord = {
          ...current,
          spec: deployment.spec ?? null,
          state: deployment.state ?? null,
          versionRefs: refs.versions,
          aliasRefs: refs.aliases,
          revision: current.revision + 1,
          updatedAt: now,
          updatedBy: deployment.by,
        };
        await tx.execute(
          'UPDATE deployments SET spec = ?, state = ?, version_refs = ?, alias_refs = ?, revision = ?, updated_at = ?, updated_by = ? WHERE name = ?',
          [
            toJson(record.spec),
            toJson(record.state),
            toJson(record.versionRefs),
            toJson(record.aliasRefs),
            record.revision,
            now,
            record.updatedBy,
            record.name,
          ],
        );
        await finishDeploymentWrite(tx, { write: deployment, record, refs, seq });
        return record;
      }),

    deleteDeployment: (options) =>
      write({ kind: 'deployment', name: options.name }, async (tx) => {
        const current = await requireDeployment(tx, options.name);
        checkRevision(`deployment ${quote(options.name)}`, {
          expected: options.expectedRevision,
          actual: current.revision,
        });
        // The events go with the deployment, so that a new deployment of the same name starts clean.
        await tx.execute('DELETE FROM deployment_events WHERE deployment = ?', [options.name]);
        await replaceDeploymentRefs(tx, { name: options.name, model: current.model }, { versions: [], aliases: [] });
        await tx.execute('DELETE FROM deployments WHERE name = ?', [options.name]);
      }),

    deploymentEvents: async (options) => {
      const limit = pageLimit(options);
      const before = cursorKey(options, 'number');
      await requireDeployment(driver, options.deployment);
      const conditions = ['deployment = ?'];
      const params: SqlValue[] = [options.deployment];
      if (before !== undefined) {
        conditions.push('id < ?');
        params.push(before);
      }
      const rows = await driver.query<DeploymentEventRow>(
        `SELECT ${DEPLOYMENT_EVENT_COLUMNS} FROM deployment_events ${where(conditions)} ORDER BY id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      return toPage(rows, { limit, map: toDeploymentEvent, key: (event) => event.id });
    },

    appendDeploymentEvent: (event) =>
      write({ kind: 'deployment', name: event.deployment }, async (tx, seq) => {
        await requireDeployment(tx, event.deployment);
        return insertDeploymentEvent(tx, { ...event, id: seq, at: Date.now() });
      }),

    ...runMethods({ driver, write }),
    ...datasetMethods({ driver, write }),

    referencedArtifacts: async () => {
      const rows = await driver.query<{ artifact_digest: string }>('SELECT DISTINCT artifact_digest FROM versions');
      const referenced = new Set(rows.map((row) => row.artifact_digest));
      // What runs produced (models, feature specs, checkpoints) is kept as long as the run is.
      for (const run of await driver.query<{ artifacts: string }>(
        "SELECT artifacts FROM runs WHERE artifacts <> '[]'",
      )) {
        for (const artifact of JSON.parse(run.artifacts) as { digest: string }[]) referenced.add(artifact.digest);
      }
      return referenced;
    },

    onChange: (listener) => feed.subscribe(listener),

    close: () => {
      closing ??= (async () => {
        const errors: unknown[] = [];
        for (const step of [() => feed.close(), () => driver.close()]) {
          try {
            await step();
          } catch (error) {
            errors.push(error);
          }
        }
        if (errors.length === 1) throw errors[0];
        if (errors.length > 1) throw new AggregateError(errors, 'closing the metadata store failed');
      })();
      return closing;
    },
  };
  return store;
}
