/**
 * Applies the numbered `.sql` files of `./migrations/` that a database has not seen yet, in order,
 * and records each in `schema_migrations`. All pending files run in one transaction under a lock
 * (PostgreSQL: an advisory transaction lock; SQLite: BEGIN IMMEDIATE), so two processes starting at
 * once apply each migration exactly once, and a failing file leaves the database as it was. A file
 * is written once for both engines unless its name ends in `.sqlite.sql` or `.postgres.sql`: then
 * only that engine runs it (and records it), for the rare change one engine's types need and the
 * other's do not (016: BYTEA for the inference log's tensors, where SQLite's columns take BLOBs).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from '../logging/logger.ts';
import { StratumError } from '../errors/index.ts';
import type { SqlDriver, SqlEngine } from './sql-driver.ts';

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** The one engine that runs it. @default both */
  readonly engine?: SqlEngine;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  readonly driver: SqlDriver;
  /** @default the files of `src/store/migrations/` */
  readonly migrations?: readonly Migration[];
  readonly logger?: Logger;
}

const MIGRATIONS_FOLDER = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d+)_([a-z0-9_]+)(?:\.(sqlite|postgres))?\.sql$/;
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
    const engine = match[3] as SqlEngine | undefined;
    migrations.push({
      version: Number(match[1]),
      name: match[2] ?? file,
      sql,
      ...(engine !== undefined && { engine }),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  // One file per number, or one per engine under the same number.
  const taken = new Map<number, Set<string>>();
  for (const { version, engine = 'both' } of migrations) {
    const engines = taken.get(version) ?? new Set<string>();
    if (engines.has(engine) || engines.has('both') || (engine === 'both' && engines.size > 0)) {
      throw new StratumError('INTERNAL', `two migrations are numbered ${version} in ${folder.href}`);
    }
    taken.set(version, engines.add(engine));
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
    const mine = migrations.filter((m) => m.engine === undefined || m.engine === tx.engine);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newer = [...done].filter((version) => version > known);
    if (newer.length > 0) {
      // A newer Stratum migrated this database (a rolling upgrade). Migrations are written to be
      // additive so that older replicas keep working, so this is worth a warning, not a refusal.
      logger?.warn({ newer, known }, 'the metadata database has migrations this version does not know');
    }
    const applied: number[] = [];
    for (const migration of mine) {
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
