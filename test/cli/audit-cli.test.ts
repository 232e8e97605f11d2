/**
 * `stratum audit verify|export` as a real child process (compiled dist/: `npm run build` first) on
 * a SQLite metadata database: a whole chain verifies with exit 0; after a row is edited or deleted
 * behind the store's back, verify exits 1 naming the first broken record and why.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'libsql';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { runCli } from '../helpers/run-cli.ts';

/** A database holding `count` audit records; returns its file. */
async function databaseWithRecords(t: TestContext, count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-audit-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'stratum.db');
  const store = await openMetadataStore({ url: `sqlite:${file}` });
  try {
    for (let n = 1; n <= count; n++) {
      await store.audit.append({
        actor: n % 2 === 0 ? 'jwt:alice' : 'key:ci',
        action: 'alias.set',
        resource: `models/m${n}/aliases/production`,
        outcome: 'ok',
        before: { version: n - 1 },
        after: { version: n },
      });
    }
  } finally {
    await store.close();
  }
  return file;
}

function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

test('audit verify exits 0 on a whole chain and export writes it as JSON Lines', async (t) => {
  const file = await databaseWithRecords(t, 4);
  const db = ['--database-url', `sqlite:${file}`];
  const verified = await runCli(['audit', 'verify', ...db]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /^audit log verified: 4 records, last hash [0-9a-f]{64}$/m);
  const json = await runCli(['audit', 'verify', '--json', ...db]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    (({ ok, checked, head }) => ({ ok, checked, head }))(JSON.parse(json.stdout) as Record<string, unknown>),
    { ok: true, checked: 4, head: 4 },
  );

  const exported = await runCli(['audit', 'export', ...db]);
  assert.equal(exported.code, 0, exported.stderr);
  const records = exported.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRecord);
  assert.deepEqual(
    records.map((r) => r.seq),
    [1, 2, 3, 4],
  );
  const alice = await runCli(['audit', 'export', '--actor', 'jwt:alice', ...db]);
  assert.deepEqual(
    alice.stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditRecord).seq),
    [2, 4],
  );
  const output = join(file, '..', 'audit.jsonl');
  const toFile = await runCli(['audit', 'export', '--resource', 'models/m3/', '--output', output, ...db]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.deepEqual(JSON.parse(await readFile(output, 'utf8')), records[2]);

  const badTime = await runCli(['audit', 'export', '--since', 'last week', ...db]);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--since must be an ISO 8601 time .*got "last week"/);
});

test('audit verify exits 1 naming the first broken record: an edited row, a deleted row', async (t) => {
  const edited = await databaseWithRecords(t, 5);
  tamper(edited, 'UPDATE audit_log SET after_state = \'{"version":99}\' WHERE seq = 2');
  const text = await runCli(['audit', 'verify', '--database-url', `sqlite:${edited}`]);
  assert.equal(text.code, 1, text.stdout);
  assert.match(text.stderr, /audit log broken at record 2 \(hash-mismatch\): record 2: hash mismatch/);
  const json = await runCli(['audit', 'verify', '--json', '--database-url', `sqlite:${edited}`]);
  assert.equal(json.code, 1);
  const error = JSON.parse(json.stderr.trim().split('\n').at(-1) ?? '{}') as { code: string; error: string };
  assert.equal(error.code, 'AUDIT_CHAIN_BROKEN');
  assert.match(error.error, /record 2/);

  const deleted = await databaseWithRecords(t, 5);
  tamper(deleted, 'DELETE FROM audit_log WHERE seq = 3');
  const gap = await runCli(['audit', 'verify', '--database-url', `sqlite:${deleted}`]);
  assert.equal(gap.code, 1);
  assert.match(gap.stderr, /audit log broken at record 3 \(gap\): record 3 is missing/);
});
