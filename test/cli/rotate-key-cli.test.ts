/**
 * `stratum artifacts rotate-key` through the compiled CLI: re-wraps the data keys of an encrypted
 * artifact folder with the key in the environment, reports what it did, leaves the bodies as they
 * were, and refuses clearly without the old key or without any key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { runCli } from '../helpers/run-cli.ts';

test('rotate-key re-wraps every data key with the new master key; the old key alone is refused afterwards', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-rotate-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const url = `file:${join(dir, 'artifacts')}`;
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('hex');
  const content = randomBytes(200_000);
  const store = await openArtifactStore({ url, encryption: { masterKey: oldKey } });
  const { digest } = await store.put(content);
  await store.close();
  const body = join(dir, 'artifacts', 'sha256', digest.slice(0, 2), digest);
  const before = await readFile(body);
  const clean = { STRATUM_MASTER_KEY: '', STRATUM_MASTER_KEY_FILE: '', STRATUM_MASTER_KEY_PREVIOUS: '' };

  const noKey = await runCli(['artifacts', 'rotate-key', '--artifacts-url', url], clean);
  assert.notEqual(noKey.code, 0);
  assert.match(noKey.stderr, /no master key to rotate to/);

  const withoutOld = await runCli(['artifacts', 'rotate-key', '--artifacts-url', url], {
    ...clean,
    STRATUM_MASTER_KEY: newKey,
  });
  assert.notEqual(withoutOld.code, 0);
  assert.match(withoutOld.stderr, /wrong master key/);
  assert.ok(!withoutOld.stderr.includes(newKey), 'the key is never printed');

  const keyFile = join(dir, 'new.key');
  await writeFile(keyFile, newKey);
  const rotated = await runCli(['artifacts', 'rotate-key', '--artifacts-url', url, '--json'], {
    ...clean,
    STRATUM_MASTER_KEY_FILE: keyFile,
    STRATUM_MASTER_KEY_PREVIOUS: oldKey,
  });
  assert.equal(rotated.code, 0, rotated.stderr);
  const result = JSON.parse(rotated.stdout) as { rewrapped: number; alreadyCurrent: number; masterKeyId: string };
  assert.deepEqual([result.rewrapped, result.alreadyCurrent], [1, 0]);
  assert.deepEqual(await readFile(body), before, 'the body was not rewritten');

  const after = await openArtifactStore({ url, encryption: { masterKey: newKey } });
  t.after(() => after.close());
  assert.deepEqual(Buffer.from(await after.read(digest)), content);
  const refused = await openArtifactStore({ url, encryption: { masterKey: oldKey } }).catch((e: unknown) => e);
  assert.match(String(refused), /wrong master key/);
});
