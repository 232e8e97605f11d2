// The audit-log part of the MetadataStore contract, on both engines for real: appends form a
// hash chain, the API's filters and paging, and the verifier naming the first broken record after
// the database is tampered with behind the store's back (edited, deleted, inserted, moved rows).
// On PostgreSQL, several stores (replicas) appending at once still form one linear chain.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import Database from 'libsql';
import pg from 'pg';
import type { AuditEntryInput } from '../../src/audit/audit-sink.ts';
import { GENESIS_HASH } from '../../src/audit/audit-record.ts';
import { verifyAuditChain } from '../../src/audit/verify-chain.ts';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

type EngineName = 'sqlite' | 'postgres';

/** Runs statements on the database directly, as an attacker with database access would. */
async function tamper(engine: Engine, statements: readonly string[]): Promise<void> {
  const url = new URL(engine.url.replace(/^sqlite:/, 'file://'));
  if (engine.url.startsWith('sqlite:')) {
    const db = new Database(engine.url.slice('sqlite:'.length));
    try {
      for (const sql of statements) db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const schema = url.searchParams.get('schema') ?? 'public';
  const client = new pg.Client({ connectionString: engine.url.split('?')[0] });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

function entry(n: number, overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    actor: n % 2 === 0 ? 'key:ci' : 'jwt:alice',
    action: n % 3 === 0 ? 'alias.set' : 'model.create',
    resource: `models/m${n}`,
    outcome: 'ok',
    source: '127.0.0.1',
    after: { name: `m${n}`, n },
    ...overrides,
  };
}

function conformance(name: EngineName, makeEngine: () => Engine): void {
  describe(`MetadataStore audit log conformance: ${name}`, () => {
    const opened: { store: MetadataStore; engine: Engine }[] = [];
    after(async () => {
      for (const { store, engine } of opened) {
        await store.close();
        await engine.cleanup();
      }
    });
    /** A fresh database per test: tampering breaks the chain for good. */
    async function fresh(): Promise<{ store: MetadataStore; engine: Engine }> {
      const engine = makeEngine();
      const store = await openMetadataStore({ url: engine.url, pollMs: 50 });
      opened.push({ store, engine });
      return { store, engine };
    }
    async function withRecords(count: number): Promise<{ store: MetadataStore; engine: Engine }> {
      const db = await fresh();
      for (let n = 1; n <= count; n++) await db.store.audit.append(entry(n));
      return db;
    }

    test('appends form a chain whose hashes an outside tool recomputes', async () => {
      const { store } = await fresh();
      assert.equal(await store.audit.head(), 0);
      assert.deepEqual(await verifyAuditChain({ source: store.audit }), {
        ok: true,
        checked: 0,
        head: 0,
        lastHash: GENESIS_HASH,
      });
      await store.audit.append({
        actor: 'jwt:alice',
        action: 'alias.set',
        resource: 'models/iris/aliases/production',
        outcome: 'ok',
        source: '10.0.0.7',
        before: { version: 1, zeta: null, alpha: [1, 'two'] },
        after: { version: 2 },
        requestId: 'req-1',
      });
      await store.audit.append({ actor: 'anonymous', action: 'request.denied', resource: 'GET /x', outcome: 'denied' });
      const [first, second] = (await store.audit.read({ afterSeq: 0, limit: 10 })) as NonNullable<
        Awaited<ReturnType<MetadataStore['audit']['read']>>
      >;
      assert.ok(first !== undefined && second !== undefined);
      // The documented serialisation, written out by hand: keys sorted at every depth, no spaces.
      const canonical =
        `{"action":"alias.set","actor":"jwt:alice","after":{"version":2},` +
        `"before":{"alpha":[1,"two"],"version":1,"zeta":null},"outcome":"ok","prevHash":"${GENESIS_HASH}",` +
        `"requestId":"req-1","resource":"models/iris/aliases/production","seq":1,"source":"10.0.0.7",` +
        `"time":"${first.time}"}`;
      assert.equal(first.hash, createHash('sha256').update(canonical).digest('hex'));
      assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(second.seq, 2);
      assert.equal(second.prevHash, first.hash);
      assert.equal(second.source, null);
      assert.equal(second.before, null);
      assert.equal(second.requestId, null);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.ok, true);
      assert.equal(verdict.checked, 2);
      assert.equal(verdict.lastHash, second.hash);
    });

    test('list filters by actor, action, resource prefix, outcome and time, and pages', async () => {
      const { store } = await withRecords(9);
      await store.audit.append(entry(10, { outcome: 'denied', resource: 'Models/M10' }));
      const all = await store.audit.list({ limit: 1000 });
      assert.deepEqual(
        all.items.map((r) => r.seq),
        [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
        'newest first by default',
      );
      const seqs = async (query: Parameters<MetadataStore['audit']['list']>[0]) =>
        (await store.audit.list({ ...query, order: 'asc' })).items.map((r) => r.seq);
      assert.deepEqual(await seqs({ actor: 'key:ci' }), [2, 4, 6, 8, 10]);
      assert.deepEqual(await seqs({ action: 'alias.set' }), [3, 6, 9]);
      assert.deepEqual(await seqs({ actor: 'jwt:alice', action: 'alias.set' }), [3, 9]);
      assert.deepEqual(await seqs({ resourcePrefix: 'models/m1' }), [1], 'a prefix, case-sensitive');
      assert.deepEqual(await seqs({ resourcePrefix: 'Models/' }), [10]);
      assert.deepEqual(await seqs({ resourcePrefix: 'models/m%' }), [], 'no wildcards');
      assert.deepEqual(await seqs({ outcome: 'denied' }), [10]);
      const times = all.items.map((r) => Date.parse(r.time));
      const latest = Math.max(...times);
      assert.deepEqual(await seqs({ since: latest + 1 }), []);
      assert.deepEqual(await seqs({ until: Math.min(...times) }), []);
      assert.equal((await seqs({ since: Math.min(...times), until: latest + 1 })).length, 10);

      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.audit.list({ limit: 4, order: 'asc', ...(cursor !== undefined && { cursor }) });
        pages.push(page.items.map((r) => r.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      assert.deepEqual(pages, [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10],
      ]);
      await rejectsWith(store.audit.list({ limit: 0 }), 'BAD_REQUEST', /limit/);
      await rejectsWith(store.audit.list({ cursor: 'nonsense' }), 'BAD_REQUEST', /cursor/);
    });

    test('an edited row is a hash mismatch at that record', async () => {
      const { store, engine } = await withRecords(5);
      await tamper(engine, ["UPDATE audit_log SET actor = 'jwt:mallory' WHERE seq = 3"]);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.ok, false);
      assert.equal(verdict.checked, 2);
      assert.equal(verdict.broken?.seq, 3);
      assert.equal(verdict.broken?.reason, 'hash-mismatch');
      assert.match(verdict.broken?.message ?? '', /^record 3: hash mismatch/);
    });

    test('an edited row whose hash was recomputed breaks the next link', async () => {
      const { store, engine } = await withRecords(5);
      await tamper(engine, ["UPDATE audit_log SET hash = 'f00d' WHERE seq = 2"]);
      const doctored = await verifyAuditChain({ source: store.audit });
      assert.equal(doctored.broken?.seq, 2);
      assert.equal(doctored.broken?.reason, 'hash-mismatch');
      // A forger who knows the format rewrites record 2 consistently: record 3 no longer links.
      const [two] = await store.audit.read({ afterSeq: 1, limit: 1 });
      assert.ok(two !== undefined);
      const { auditHash } = await import('../../src/audit/audit-record.ts');
      const forged = { ...two, actor: 'jwt:mallory' };
      await tamper(engine, [`UPDATE audit_log SET actor = 'jwt:mallory', hash = '${auditHash(forged)}' WHERE seq = 2`]);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.broken?.seq, 3);
      assert.equal(verdict.broken?.reason, 'prev-hash-mismatch');
    });

    test('a deleted row is a gap naming the missing record', async () => {
      const { store, engine } = await withRecords(5);
      await tamper(engine, ['DELETE FROM audit_log WHERE seq = 4']);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.broken?.seq, 4);
      assert.equal(verdict.broken?.reason, 'gap');
      assert.match(verdict.broken?.message ?? '', /record 4 is missing/);
    });

    test('rows deleted from the end are a gap against the head', async () => {
      const { store, engine } = await withRecords(5);
      await tamper(engine, ['DELETE FROM audit_log WHERE seq >= 4']);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.checked, 3);
      assert.equal(verdict.broken?.seq, 4);
      assert.equal(verdict.broken?.reason, 'gap');
      assert.match(verdict.broken?.message ?? '', /head is at 5/);
    });

    test('an inserted row breaks the chain where it was put', async () => {
      const { store, engine } = await withRecords(5);
      // Make room at 3 and put a forged record there, linked to record 2.
      const [two] = await store.audit.read({ afterSeq: 1, limit: 1 });
      assert.ok(two !== undefined);
      await tamper(engine, [
        'UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3',
        'UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103',
        `INSERT INTO audit_log (seq, at, actor, action, resource, outcome, source, before_state, after_state, request_id, prev_hash, hash)
         VALUES (3, 0, 'jwt:mallory', 'key.create', 'keys/backdoor', 'ok', NULL, 'null', 'null', NULL, '${two.hash}', 'abc')`,
      ]);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.broken?.seq, 3);
      assert.equal(verdict.broken?.reason, 'hash-mismatch');
    });

    test('a row added past the head is found', async () => {
      const { store, engine } = await withRecords(3);
      await tamper(engine, [
        `INSERT INTO audit_log (seq, at, actor, action, resource, outcome, source, before_state, after_state, request_id, prev_hash, hash)
         SELECT 4, at, actor, action, resource, outcome, source, before_state, after_state, request_id, hash, hash FROM audit_log WHERE seq = 3`,
      ]);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.broken?.reason, 'beyond-head');
      assert.equal(verdict.broken?.seq, 4);
    });

    test('reordered rows are a hash mismatch at the first moved one', async () => {
      const { store, engine } = await withRecords(5);
      await tamper(engine, [
        'UPDATE audit_log SET seq = 100 WHERE seq = 2',
        'UPDATE audit_log SET seq = 2 WHERE seq = 4',
        'UPDATE audit_log SET seq = 4 WHERE seq = 100',
      ]);
      const verdict = await verifyAuditChain({ source: store.audit });
      assert.equal(verdict.broken?.seq, 2);
      assert.equal(verdict.broken?.reason, 'hash-mismatch');
    });

    if (name === 'postgres') {
      test('appends from several replicas at once form one linear chain', async () => {
        const { store, engine } = await fresh();
        const replicas = [store];
        for (let i = 0; i < 2; i++) {
          const replica = await openMetadataStore({ url: engine.url, pollMs: 50 });
          replicas.push(replica);
        }
        try {
          const perReplica = 25;
          await Promise.all(
            replicas.flatMap((replica, r) =>
              Array.from({ length: perReplica }, (_, i) =>
                replica.audit.append(entry(i, { actor: `key:replica${r}`, resource: `jobs/${r}-${i}` })),
              ),
            ),
          );
          const verdict = await verifyAuditChain({ source: store.audit, pageSize: 7 });
          assert.deepEqual(verdict.broken, undefined);
          assert.equal(verdict.checked, replicas.length * perReplica);
          assert.equal(verdict.head, replicas.length * perReplica);
          const resources = (await store.audit.list({ limit: 1000 })).items.map((r) => r.resource);
          assert.equal(new Set(resources).size, replicas.length * perReplica, 'every append is there once');
        } finally {
          for (const replica of replicas.slice(1)) await replica.close();
        }
      });
    }
  });
}

conformance('sqlite', () => sqliteEngine('audit'));
conformance('postgres', postgresEngine);
