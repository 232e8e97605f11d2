/**
 * The verification cache of API keys across replicas: two key services over one SQLite store stand
 * for two replicas. A key revoked on one is refused there at once, and on the other once its
 * cached verification is older than the TTL (a clock the test moves, no waiting). Refusals are
 * remembered for a short TTL with their reason, so one bad key sent in a flood costs one check.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import { createApiKeyService } from '../../src/security/api-keys.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';

test('revocation: at once on the replica that revoked, within the TTL on another', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'stratum-key-cache-'));
  const store = await openMetadataStore({ url: `sqlite:${join(folder, 'stratum.db')}` });
  t.after(async () => {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  });
  let clock = Date.now();
  const now = (): number => clock;
  const here = createApiKeyService({ store, cacheTtlMs: 10_000, now });
  const there = createApiKeyService({ store, cacheTtlMs: 10_000, now });
  const { key, record } = await here.create({ name: 'k', grants: [{ role: 'viewer' }], by: 'test' });
  assert.equal((await there.authenticate(key)).principal.id, `key:${record.id}`);
  assert.equal((await here.authenticate(key)).principal.id, `key:${record.id}`);

  await here.revoke({ id: record.id, by: 'test' });
  await assert.rejects(
    async () => here.authenticate(key),
    (e: unknown) => e instanceof StratumError && /revoked/.test(e.message),
  );
  // The other replica still trusts its cached verification within the TTL …
  const cached = there.authenticate(key);
  assert.ok(!(cached instanceof Promise), 'answered from the cache, synchronously');
  // … and reads the row again once it is older than the TTL.
  clock += 10_001;
  await assert.rejects(
    async () => there.authenticate(key),
    (e: unknown) => e instanceof StratumError && /revoked/.test(e.message),
  );
});

test('refusals are remembered briefly with their reason: a flood of one bad key costs one check', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'stratum-key-cache-'));
  const store = await openMetadataStore({ url: `sqlite:${join(folder, 'stratum.db')}` });
  t.after(async () => {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  });
  let clock = Date.now();
  let reads = 0;
  let failNextRead = false;
  // The key service's view of the store, counting row reads: a refusal from memory reads no row
  // and so runs no scrypt (which follows the read).
  const counted = Object.assign(Object.create(store) as typeof store, {
    findApiKey: async (id: string) => {
      reads++;
      if (failNextRead) {
        failNextRead = false;
        throw new StratumError('STORE_UNAVAILABLE', 'the store is down');
      }
      return store.findApiKey(id);
    },
  });
  const keys = createApiKeyService({ store: counted, failureTtlMs: 2_000, now: () => clock });
  const { key, record } = await keys.create({ name: 'k', grants: [{ role: 'viewer' }], by: 'test' });
  const wrong = `${key.slice(0, -4)}${key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  const refusedWith = (pattern: RegExp) => (e: unknown) =>
    e instanceof StratumError && e.code === 'UNAUTHENTICATED' && pattern.test(e.message);
  const mismatch = new RegExp(`^API key ${record.id}: the secret does not match$`);

  await Promise.all(
    Array.from({ length: 20 }, () => assert.rejects(async () => keys.authenticate(wrong), refusedWith(mismatch))),
  );
  for (let i = 0; i < 20; i++) await assert.rejects(async () => keys.authenticate(wrong), refusedWith(mismatch));
  assert.equal(reads, 1, 'one row read (and one scrypt) for 40 presentations of the same bad key');

  // The right key is not affected by its wrong neighbour's refusal.
  assert.equal((await keys.authenticate(key)).principal.id, `key:${record.id}`);
  assert.equal(reads, 2);

  // Unknown keys likewise, with their own reason.
  const unknown = `stk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
  for (let i = 0; i < 5; i++) {
    await assert.rejects(async () => keys.authenticate(unknown), refusedWith(/^API key 0{16} does not exist$/));
  }
  assert.equal(reads, 3);

  // Past the TTL the bad key is checked again.
  clock += 2_001;
  await assert.rejects(async () => keys.authenticate(wrong), refusedWith(mismatch));
  assert.equal(reads, 4);

  // A store failure says nothing about a key: it is not remembered.
  const other = await keys.create({ name: 'k2', grants: [{ role: 'viewer' }], by: 'test' });
  failNextRead = true;
  await assert.rejects(
    async () => keys.authenticate(other.key),
    (e: unknown) => e instanceof StratumError && e.code === 'STORE_UNAVAILABLE',
  );
  assert.equal((await keys.authenticate(other.key)).principal.id, `key:${other.record.id}`);
});
