/**
 * openArtifactStore: `file:` URLs (relative and absolute) open a folder store; anything else is
 * CONFIG_INVALID naming the URL, without echoing a password.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { rejectsWith } from './artifact-store-conformance.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-artifacts-url-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('file:<relative> opens a folder under cwd', async (t) => {
  const cwd = await tempDir(t);
  const store = await openArtifactStore({ url: 'file:.stratum/artifacts', cwd });
  t.after(() => store.close());
  const { digest } = await store.put(new TextEncoder().encode('relative'));
  assert.deepEqual(await readdir(join(cwd, '.stratum', 'artifacts', 'sha256', digest.slice(0, 2))), [digest]);
});

test('file:///absolute opens that folder', async (t) => {
  const dir = join(await tempDir(t), 'with space');
  const url = pathToFileURL(dir).href;
  assert.match(url, /^file:\/\/\/.*with%20space$/);
  const store = await openArtifactStore({ url });
  t.after(() => store.close());
  const { digest } = await store.put(new TextEncoder().encode('absolute'));
  assert.deepEqual(await readdir(join(dir, 'sha256', digest.slice(0, 2))), [digest]);
});

test('other schemes, an empty path or a remote file host are CONFIG_INVALID naming the URL', async () => {
  for (const url of ['s3://bucket/models', 'artifacts', 'file:', 'file://server/share', '']) {
    const err = await rejectsWith(openArtifactStore({ url }), 'CONFIG_INVALID');
    assert.ok(err.message.includes(JSON.stringify(url)), err.message);
  }
});

test('a password in the URL is not echoed', async () => {
  const err = await rejectsWith(openArtifactStore({ url: 's3://key:s3cr3t@host/bucket' }), 'CONFIG_INVALID');
  assert.doesNotMatch(err.message, /s3cr3t/);
  assert.match(err.message, /key:\*\*\*@host/);
  assert.doesNotMatch(JSON.stringify(err.details), /s3cr3t/);
});

test('a folder that cannot be created is CONFIG_INVALID', async (t) => {
  const file = join(await tempDir(t), 'a-file');
  await writeFile(file, 'not a folder');
  const err = await rejectsWith(openArtifactStore({ url: `file:${file}/artifacts` }), 'CONFIG_INVALID');
  assert.match(err.message, /cannot open folder/);
});
