/**
 * `stratum keys` and `stratum login` as users run them (compiled CLI, child processes) against a
 * server with security on: login keeps an admin key in a 0600 file under HOME, and the commands
 * then send it; a key created prints its secret once, shows in the list without it, and is revoked.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createApiKeyService } from '../../src/security/api-keys.ts';
import { startServer } from '../../src/server/stratum-server.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { runCli } from '../helpers/run-cli.ts';

test('login keeps a credential (0600) that keys create, list and revoke then send', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-keys-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const store = await openMetadataStore({ url: databaseUrl });
  const { key: admin } = await createApiKeyService({ store })
    .create({ name: 'bootstrap', grants: [{ role: 'admin' }], by: 'test' })
    .finally(() => store.close());
  const config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      logLevel: 'silent',
      runtime: { workers: 1 },
      databaseUrl,
      artifactsUrl: `file:${join(dir, 'artifacts')}`,
      jobs: { serveConcurrency: 0 },
      security: { mode: 'on' },
    },
  });
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }), withoutGrpc: true });
  t.after(() => server.close());
  const env = { HOME: join(dir, 'home'), STRATUM_URL: server.httpUrl };

  const refused = await runCli(['keys', 'list'], env);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /credentials required/);

  const login = await runCli(['login', '--token', admin], env);
  assert.equal(login.code, 0, login.stderr);
  const file = join(dir, 'home', '.config', 'stratum', 'credentials.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  const created = await runCli(
    ['keys', 'create', '--name', 'ci', '--role', 'deployer', '--model', 'iris', '--expires', '90d'],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  const [secret, summary] = created.stdout.split('\n');
  assert.match(secret ?? '', /^stk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const id = (secret ?? '').slice(4, 20);
  assert.match(summary ?? '', new RegExp(`key ${id} \\(deployer:iris\\), active until`));

  const listed = await runCli(['keys', 'list', '--json'], env);
  assert.equal(listed.code, 0, listed.stderr);
  const items = (JSON.parse(listed.stdout) as { items: { id: string; createdBy: string }[] }).items;
  const row = items.find((k) => k.id === id);
  assert.ok(row !== undefined);
  assert.match(row.createdBy, /^key:[0-9a-f]{16}$/, 'recorded under the authenticated key, not --actor');
  assert.ok(!listed.stdout.includes((secret ?? '').slice(21)));

  const revoked = await runCli(['keys', 'revoke', id], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`key ${id} \\(ci\\) revoked`));

  const bad = await runCli(['keys', 'create', '--name', 'x', '--role', 'boss'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /boss/);
});
