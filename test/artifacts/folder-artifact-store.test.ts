/**
 * The folder artifact store: the shared conformance suite on real temp folders, plus what only a
 * folder has (the on-disk layout, temp files, a killed process, stale-temp cleanup, repair).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFolderArtifactStore } from '../../src/artifacts/folder-artifact-store.ts';
import { artifactStoreConformance, collect, rejectsWith, sha256 } from './artifact-store-conformance.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-artifacts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'sha256', digest.slice(0, 2), digest);
}

async function setAge(path: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  await utimes(path, then, then);
}

async function flipByte(path: string, position: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, position);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await file.write(byte, 0, 1, position);
  } finally {
    await file.close();
  }
}

artifactStoreConformance({
  name: 'folder',
  async open(t) {
    const dir = await tempDir(t);
    const store = await createFolderArtifactStore({ dir });
    t.after(() => store.close());
    return {
      store,
      corrupt: async (digest) => {
        const path = blobPath(dir, digest);
        await flipByte(path, Math.floor((await stat(path)).size / 2));
      },
      backdate: (digest, ms) => setAge(blobPath(dir, digest), ms),
      leftovers: () => readdir(join(dir, 'tmp')),
    };
  },
});

test('lays artifacts out as sha256/<2 hex>/<digest>, with nothing left in tmp', async (t) => {
  const dir = await tempDir(t);
  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  const bytes = randomBytes(1234);
  const { digest } = await store.put(bytes);
  assert.deepEqual((await readdir(dir)).sort(), ['sha256', 'tmp']);
  assert.deepEqual(await readdir(join(dir, 'sha256')), [digest.slice(0, 2)]);
  assert.equal((await stat(blobPath(dir, digest))).size, 1234);
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
});

test('putting good content over a corrupt copy repairs it', async (t) => {
  const dir = await tempDir(t);
  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  const bytes = randomBytes(4096);
  const { digest } = await store.put(bytes);
  await flipByte(blobPath(dir, digest), 0);
  await rejectsWith(store.read(digest), 'ARTIFACT_CORRUPT');
  await store.put(bytes);
  assert.equal(sha256(await store.read(digest)), digest);
});

test('a stream opened before a delete reports ARTIFACT_NOT_FOUND when read', async (t) => {
  const dir = await tempDir(t);
  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  const { digest } = await store.put(randomBytes(100));
  const stream = await store.get(digest);
  await store.delete(digest);
  await rejectsWith(collect(stream), 'ARTIFACT_NOT_FOUND');
});

test('a process killed mid-upload leaves only a temp file, removed once stale', async (t) => {
  const dir = await tempDir(t);
  const script = fileURLToPath(new URL('./crashing-upload.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('WRITING')) resolve();
    });
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  const temps = await readdir(join(dir, 'tmp'));
  assert.equal(temps.length, 1);
  const temp = join(dir, 'tmp', temps[0] ?? '');
  assert.equal((await stat(temp)).size, 1024 * 1024, 'the written part is in the temp file');

  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  const listed = [];
  for await (const info of store.list()) listed.push(info);
  assert.deepEqual(listed, [], 'nothing half-written is visible');
  assert.deepEqual(await readdir(join(dir, 'tmp')), temps, 'a fresh temp file may be a live upload: kept');

  await setAge(temp, 61 * 60_000);
  const reopened = await createFolderArtifactStore({ dir });
  t.after(() => reopened.close());
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
});

test('opening removes temp files older than an hour and keeps younger ones', async (t) => {
  const dir = await tempDir(t);
  const first = await createFolderArtifactStore({ dir });
  await first.close();
  const stale = join(dir, 'tmp', 'stale.part');
  const fresh = join(dir, 'tmp', 'fresh.part');
  await writeFile(stale, 'left by a crash');
  await writeFile(fresh, 'an upload in progress elsewhere');
  await setAge(stale, 2 * 60 * 60_000);
  await setAge(fresh, 50 * 60_000);
  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  assert.deepEqual(await readdir(join(dir, 'tmp')), ['fresh.part']);
});

test('files in the store folder that are not artifacts are ignored by list and GC', async (t) => {
  const dir = await tempDir(t);
  const store = await createFolderArtifactStore({ dir });
  t.after(() => store.close());
  const { digest } = await store.put(randomBytes(10));
  await writeFile(join(dir, 'sha256', 'README'), 'not an artifact');
  await writeFile(join(dir, 'sha256', digest.slice(0, 2), 'notes.txt'), 'not an artifact');
  const listed = [];
  for await (const info of store.list()) listed.push(info.digest);
  assert.deepEqual(listed, [digest]);
  const { removed } = await store.collectGarbage({ referenced: new Set(), graceMs: 0 });
  assert.deepEqual(
    removed.map((info) => info.digest),
    [digest],
  );
  assert.deepEqual(await readdir(join(dir, 'sha256', digest.slice(0, 2))), ['notes.txt']);
});
