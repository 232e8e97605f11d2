/**
 * Applies the numbered `.sql` files of `./migrations/` that a database has not seen yet, in order,
 * and records each in `schema_migrations`. All pending files run in one transaction under a lock
 * (PostgreSQL: an advisory transaction lock; SQLite: BEGIN IMMEDIATE), so two processes starting at
 * once apply each migration exactly once, and a failing file leaves the database as it was.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from '../logging/logger.ts';
import { StratumError } from '../errors/index.ts';
import type { SqlDriver } from './sql-driver.ts';

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  readonly driver: SqlDriver;
  /** @default the files of `src/store/migrations/` */
  readonly migrations?: readonly Migration[];
  readonly logger?: Logger;
}

const MIGRATIONS_FOLDER = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d+)_([a-z0-9_]+)\.sql$/;
// pg_advisory_xact_lock key of the migrator ("STRM" in ASCII, then 1); any constant works as long
// as every Stratum process uses the same one.
const MIGRATION_LOCK_KEY = 0x5354524d_01;

/** Reads the migration files, ordered by their number. */
export async function loadMigrations(folder: URL = MIGRATIONS_FOLDER): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of await readdir(folder)) {
    const match = FILE_NAME.exec(file);
    if (match === null) continue;
    const sql = await readFile(new URL(file, folder), 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2] ?? file, sql });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new StratumError('INTERNAL', `two migrations are numbered ${migrations[i]?.version} in ${folder.href}`);
    }
  }
  return migrations;
}

/**
 * Brings the database up to date and returns the versions it applied (empty when none was pending).
 *
 * @example
 * await migrate({ driver });
 */
export async function migrate(options: MigrateOptions): Promise<number[]> {
  const { driver, logger } = options;
  const migrations = options.migrations ?? (await loadMigrations());
  return driver.transaction(async (tx) => {
    if (tx.engine === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await tx.executeScript(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newer = [...done].filter((version) => version > known);
    if (newer.length > 0) {
      // A newer Stratum migrated this database (a rolling upgrade). Migrations are written to be
      // additive so that older replicas keep working, so this is worth a warning, not a refusal.
      logger?.warn({ newer, known }, 'the metadata database has migrations this version does not know');
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.executeScript(migration.sql);
      await tx.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      applied.push(migration.version);
    }
    if (applied.length > 0) logger?.info({ applied }, 'metadata database migrated');
    return applied;
  });
}
