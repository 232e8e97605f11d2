// The migrator's engine-specific files (`NNN_name.sqlite.sql` / `.postgres.sql`), on both engines
// for real: each engine runs and records only its own file and the shared ones, two files for one
// engine under one number are refused; and a new SQLite file gets the driver's 16 KiB pages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import { openDriver } from '../../src/store/open-metadata-store.ts';
import { openSqliteDriver } from '../../src/store/sqlite-driver.ts';
import { type Engine, postgresEngine, sqliteEngine } from './store-engines.ts';

function folderWith(t: { after(fn: () => void): void }, files: Readonly<Record<string, string>>): URL {
  const folder = mkdtempSync(join(tmpdir(), 'stratum-migrations-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return pathToFileURL(`${folder}/`);
}

const FILES = {
  '001_shared.sql': 'CREATE TABLE probe_shared (id INTEGER NOT NULL PRIMARY KEY);',
  '002_typed.sqlite.sql': 'CREATE TABLE probe_sqlite (id INTEGER NOT NULL PRIMARY KEY);',
  '002_typed.postgres.sql': 'CREATE TABLE probe_postgres (id INTEGER NOT NULL PRIMARY KEY);',
  '003_pg_only.postgres.sql': 'CREATE TABLE probe_pg_only (id INTEGER NOT NULL PRIMARY KEY);',
};

for (const [name, makeEngine] of [
  ['sqlite', () => sqliteEngine('migrate-engines')],
  ['postgres', postgresEngine],
] as const) {
  test(`${name}: an engine runs and records its own files and the shared ones`, async (t) => {
    const engine: Engine = makeEngine();
    t.after(() => engine.cleanup());
    const migrations = await loadMigrations(folderWith(t, FILES));
    const { driver, notifier } = await openDriver({ url: engine.url });
    await notifier?.close();
    t.after(() => driver.close());
    const expected = name === 'sqlite' ? [1, 2] : [1, 2, 3];
    assert.deepEqual(await migrate({ driver, migrations }), expected);
    assert.deepEqual(await migrate({ driver, migrations }), []);
    const own = await driver.query<{ n: number }>(`SELECT COUNT(*) AS n FROM probe_${name}`);
    assert.equal(Number(own[0]?.n), 0);
    const other = name === 'sqlite' ? 'probe_postgres' : 'probe_sqlite';
    await assert.rejects(driver.query(`SELECT COUNT(*) AS n FROM ${other}`));
    const recorded = await driver.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      recorded.map((r) => Number(r.version)),
      expected,
    );
  });
}

test('two files for one engine, or a shared file and an engine file, under one number are refused', async (t) => {
  for (const files of [
    { '004_a.postgres.sql': 'SELECT 1;', '004_b.postgres.sql': 'SELECT 1;', '004_c.sqlite.sql': 'SELECT 1;' },
    { '005_a.sql': 'SELECT 1;', '005_b.sqlite.sql': 'SELECT 1;' },
  ]) {
    await assert.rejects(
      loadMigrations(folderWith(t, files)),
      (error: unknown) => error instanceof StratumError && /two migrations are numbered/.test(error.message),
    );
  }
});

test('a new SQLite file is created with 16 KiB pages', async (t) => {
  const engine = sqliteEngine('page-size');
  t.after(() => engine.cleanup());
  const driver = openSqliteDriver({ path: engine.url.slice('sqlite:'.length) });
  t.after(() => driver.close());
  await driver.execute('CREATE TABLE t (x INTEGER)');
  const [row] = await driver.query<{ page_size: number }>('PRAGMA page_size');
  assert.equal(row?.page_size, 16_384);
});
