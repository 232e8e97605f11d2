// The API key part of the MetadataStore contract, on both engines for real: SQLite in a temporary
// folder and PostgreSQL in a schema of its own (dropped afterwards).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function newKey(overrides: { id?: string; createdAt?: number; expiresAt?: number } = {}) {
  return {
    id: overrides.id ?? randomUUID().replaceAll('-', '').slice(0, 16),
    name: 'ci deploys',
    secretHash: 'scrypt$15$8$1$c2FsdA$aGFzaA',
    grants: [{ role: 'deployer', model: 'iris' }, { role: 'viewer' }],
    limits: { requestsPerSecond: 50, burst: 100, maxConcurrent: 8 },
    createdAt: overrides.createdAt ?? Date.now(),
    createdBy: 'cli:alice',
    ...(overrides.expiresAt !== undefined && { expiresAt: overrides.expiresAt }),
  };
}

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`MetadataStore API keys conformance: ${name}`, () => {
    const engine = makeEngine();
    let store: MetadataStore;

    before(async () => {
      store = await openMetadataStore({ url: engine.url, pollMs: 50 });
    });
    after(async () => {
      await store.close();
      await engine.cleanup();
    });

    test('a key is stored with its hash, found by id, and its public fields never carry the hash', async () => {
      const key = newKey({ expiresAt: Date.now() + 60_000 });
      const created = await store.createApiKey(key);
      assert.equal('secretHash' in created, false);
      assert.deepEqual(created.grants, key.grants);
      assert.deepEqual(created.limits, key.limits);
      assert.equal(created.expiresAt, key.expiresAt);
      const found = await store.findApiKey(key.id);
      assert.deepEqual(found, key);
      assert.equal(await store.findApiKey('0000000000000000'), undefined);
      await rejectsWith(store.createApiKey(key), 'ALREADY_EXISTS', new RegExp(key.id));
    });

    test('keys are listed newest first, without hashes', async () => {
      const older = newKey({ createdAt: 1_000 });
      const newer = newKey({ createdAt: 2_000 });
      await store.createApiKey(older);
      await store.createApiKey(newer);
      const ids = (await store.listApiKeys()).map((k) => k.id);
      assert.ok(ids.indexOf(newer.id) < ids.indexOf(older.id));
      for (const k of await store.listApiKeys()) assert.equal('secretHash' in k, false);
    });

    test('revoking records who and when, once; an unknown key is NOT_FOUND', async () => {
      const key = newKey();
      await store.createApiKey(key);
      const revoked = await store.revokeApiKey({ id: key.id, by: 'key:admin1' });
      assert.equal(revoked.revokedBy, 'key:admin1');
      assert.ok(revoked.revokedAt !== undefined && revoked.revokedAt >= key.createdAt);
      const again = await store.revokeApiKey({ id: key.id, by: 'key:someone-else' });
      assert.deepEqual(again, revoked);
      assert.equal((await store.findApiKey(key.id))?.revokedAt, revoked.revokedAt);
      await rejectsWith(store.revokeApiKey({ id: 'ffffffffffffffff', by: 'x' }), 'NOT_FOUND', /ffffffffffffffff/);
    });
  });
}

conformance('sqlite', () => sqliteEngine('keys'));
conformance('postgres', postgresEngine);
