/**
 * The verification cache of API keys across replicas: two key services over one SQLite store stand
 * for two replicas. A key revoked on one is refused there at once, and on the other once its
 * cached verification is older than the TTL (a clock the test moves, no waiting).
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
