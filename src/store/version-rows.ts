/**
 * Model versions on SQL: the `versions` rows and their tags, the mapping to the contract's
 * records, and the store methods, on the same `write` (one transaction, one change record) as the
 * rest of the store. Numbers come from the model's own counter, so a deleted number is never
 * handed out again; the number is taken in the transaction that writes the version (and its alias,
 * when one is moved with it), so a refused registration uses none up. The alias and deployment
 * modules look versions up through {@link requireVersion}.
 */
import type { Signature } from '../tensor/signature.ts';
import { StratumError } from '../errors/index.ts';
import { moveAlias } from './alias-move.ts';
import type { Lineage, MetadataStore, NewVersion, VersionRecord } from './metadata-store.ts';
import { modelNotFound, replaceTags, requireModel } from './model-rows.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { inUse, quote } from './store-errors.ts';
import { fromJson, type RowMethodsOptions, toJson, unique } from './store-rows.ts';

/** A `versions` row. */
interface VersionRow {
  readonly model: string;
  readonly version: number;
  readonly artifact_digest: string;
  readonly artifact_size: number;
  readonly signature: string;
  readonly metadata: string;
  readonly metrics: string;
  readonly tags: string;
  readonly description: string;
  readonly status: string;
  readonly lineage: string;
  readonly created_at: number;
  readonly created_by: string;
}
const VERSION_COLUMNS =
  'model, version, artifact_digest, artifact_size, signature, metadata, metrics, tags, description, status, lineage, created_at, created_by';

/** Maps a `versions` row. */
function toVersion(row: VersionRow): VersionRecord {
  return {
    model: row.model,
    version: row.version,
    artifactDigest: row.artifact_digest,
    artifactSize: row.artifact_size,
    signature: fromJson<Signature>(row.signature),
    metadata: fromJson<Record<string, string>>(row.metadata),
    metrics: fromJson<Record<string, number>>(row.metrics),
    tags: fromJson<string[]>(row.tags),
    description: row.description,
    status: row.status === 'archived' ? 'archived' : 'ready',
    lineage: fromJson<Lineage>(row.lineage),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** The version; VERSION_NOT_FOUND, or MODEL_NOT_FOUND when the model is missing too. */
export async function requireVersion(db: SqlExecutor, key: { model: string; version: number }): Promise<VersionRecord> {
  const [row] = await db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM versions WHERE model = ? AND version = ?`, [
    key.model,
    key.version,
  ]);
  if (row !== undefined) return toVersion(row);
  await requireModel(db, key.model);
  throw new StratumError('VERSION_NOT_FOUND', `version ${key.version} of model ${quote(key.model)} does not exist`, {
    details: { model: key.model, version: key.version },
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

type VersionMethods = Pick<
  MetadataStore,
  'createVersion' | 'getVersion' | 'listVersions' | 'updateVersion' | 'deleteVersion'
>;

/** The version methods of the SQL store. */
export function versionMethods(options: RowMethodsOptions): VersionMethods {
  const { driver, write } = options;
  return {
    createVersion: async (version: NewVersion) => {
      checkNewVersion(version);
      // A version registered with its alias is announced as an alias change: deployments follow it.
      const change = { kind: version.alias === undefined ? 'version' : 'alias', name: version.model } as const;
      return write(change, async (tx, seq) => {
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
          metadata: { ...version.metadata },
          metrics: { ...version.metrics },
          tags: unique(version.tags ?? []),
          description: version.description ?? '',
          status: 'ready',
          lineage: { ...version.lineage },
          createdAt: Date.now(),
          createdBy: version.by,
        };
        await tx.execute(`INSERT INTO versions (${VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.model,
          record.version,
          record.artifactDigest,
          record.artifactSize,
          toJson(record.signature),
          toJson(record.metadata),
          toJson(record.metrics),
          toJson(record.tags),
          record.description,
          record.status,
          toJson(record.lineage),
          record.createdAt,
          record.createdBy,
        ]);
        await replaceTags(tx, { table: 'version_tags', key: [record.model, record.version], tags: record.tags });
        const alias = version.alias;
        if (alias !== undefined) {
          // In the same transaction: a refused move takes the version and its number back with it.
          await moveAlias(tx, {
            seq,
            move: {
              model: record.model,
              alias: alias.name,
              version: record.version,
              by: version.by,
              ...(alias.reason !== undefined && { reason: alias.reason }),
              ...(alias.forced !== undefined && { forced: alias.forced }),
              ...(alias.expectedRevision !== undefined && { expectedRevision: alias.expectedRevision }),
            },
          });
        }
        return record;
      });
    },

    getVersion: (model, version) => requireVersion(driver, { model, version }),

    listVersions: async (model, options) => {
      const page = pageRequest(options, 'number');
      checkStatus(options?.status);
      await requireModel(driver, model);
      return selectPage(driver, {
        columns: VERSION_COLUMNS,
        from: 'versions v',
        filters: [
          { sql: 'v.model = ?', value: model },
          { sql: 'v.status = ?', value: options?.status },
          {
            sql: 'EXISTS (SELECT 1 FROM version_tags t WHERE t.model = v.model AND t.version = v.version AND t.tag = ?)',
            value: options?.tag,
          },
        ],
        orderBy: { column: 'v.version', descending: true, key: (row: VersionRow) => row.version },
        page,
        map: toVersion,
      });
    },

    updateVersion: async (model, version, patch) => {
      checkStatus(patch.status);
      return write({ kind: 'version', name: model }, async (tx) => {
        const current = await requireVersion(tx, { model, version });
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
  };
}
