/**
 * The folder artifact store with encryption at rest: the shared conformance suite on an encrypted
 * folder, then what encryption adds: no plaintext on disk, the segment framing's tamper, cut and
 * reorder detection, a wrong or missing master key refused at open, rotation that re-wraps data
 * keys and leaves the bodies byte for byte, deduplication, and plaintext artifacts written before
 * encryption was turned on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createFolderArtifactStore } from '../../src/artifacts/folder-artifact-store.ts';
import { createMasterKeyring, type MasterKeyring, parseMasterKey } from '../../src/artifacts/master-keys.ts';
import { openArtifactStore, rotateArtifactStoreKeys } from '../../src/artifacts/open-artifact-store.ts';
import { HEADER_BYTES, SEGMENT_BYTES, TAG_BYTES } from '../../src/artifacts/segment-cipher.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { artifactStoreConformance, chunked, collect, rejectsWith, sha256 } from './artifact-store-conformance.ts';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');

function keyring(current: string, previous: readonly string[] = []): MasterKeyring {
  return createMasterKeyring({
    current: parseMasterKey(current, 'test key'),
    previous: previous.map((k) => parseMasterKey(k, 'test previous key')),
  });
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-encrypted-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function bodyPath(dir: string, digest: string): string {
  return join(dir, 'sha256', digest.slice(0, 2), digest);
}

async function openEncrypted(t: TestContext, dir: string, keys: { key?: string; previous?: string[] } = {}) {
  const store = await createFolderArtifactStore({ dir, keyring: keyring(keys.key ?? KEY_A, keys.previous ?? []) });
  t.after(() => store.close());
  return store;
}

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function keyFilesOf(dir: string, digest: string): Promise<string[]> {
  return (await filesUnder(join(dir, 'keys'))).filter((p) => p.includes(digest));
}

async function patch(path: string, edit: (bytes: Buffer) => void): Promise<void> {
  const bytes = await readFile(path);
  edit(bytes);
  await writeFile(path, bytes);
}

async function expectCorrupt(store: Awaited<ReturnType<typeof openEncrypted>>, digest: string): Promise<void> {
  const err = await rejectsWith(store.read(digest), 'ARTIFACT_CORRUPT');
  assert.equal(err.details?.['digest'], digest);
  await rejectsWith(collect(await store.get(digest)), 'ARTIFACT_CORRUPT');
}

artifactStoreConformance({
  name: 'folder, encrypted',
  authenticatesPieces: true,
  async open(t) {
    const dir = await tempDir(t);
    const store = await openEncrypted(t, dir);
    return {
      store,
      corrupt: async (digest) => {
        const path = bodyPath(dir, digest);
        await patch(path, (bytes) => {
          const middle = Math.floor(bytes.length / 2);
          bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
        });
      },
      backdate: async (digest, ms) => {
        const then = new Date(Date.now() - ms);
        await utimes(bodyPath(dir, digest), then, then);
      },
      leftovers: () => readdir(join(dir, 'tmp')),
    };
  },
});

test('round-trips small and multi-segment artifacts; sizes are those of the plaintext', async (t) => {
  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir);
  const sizes = [
    0,
    1,
    100,
    SEGMENT_BYTES - 1,
    SEGMENT_BYTES,
    SEGMENT_BYTES + 1,
    2 * SEGMENT_BYTES,
    3 * SEGMENT_BYTES + 17,
  ];
  for (const size of sizes) {
    const bytes = randomBytes(size);
    const info = await store.put(chunked(bytes));
    assert.equal(info.digest, sha256(bytes), `size ${size}`);
    assert.equal(info.size, size);
    assert.deepEqual(Buffer.from(await store.read(info.digest)), bytes, `read, size ${size}`);
    const stream = await store.get(info.digest);
    assert.equal(stream.size, size);
    assert.deepEqual(await collect(stream), bytes, `get, size ${size}`);
    assert.equal((await store.stat(info.digest)).size, size);
    const segments = Math.max(1, Math.ceil(size / SEGMENT_BYTES));
    assert.equal((await stat(bodyPath(dir, info.digest))).size, HEADER_BYTES + size + segments * TAG_BYTES);
  }
  const listed = [];
  for await (const info of store.list()) listed.push(info.size);
  assert.deepEqual(
    listed.sort((a, b) => a - b),
    [...sizes].sort((a, b) => a - b),
  );
});

test('no file in the artifact folder holds any of the plaintext model bytes', async (t) => {
  const model = Buffer.from(FIXTURES.mlp.build());
  assert.ok(model.length > 4 * SEGMENT_BYTES, 'the fixture spans several segments');
  // Windows of 32 bytes every 1 KiB, and the ONNX producer string: any of them in a file would
  // mean plaintext on disk.
  const windows: Buffer[] = [];
  for (let at = 0; at + 32 <= model.length; at += 1024) windows.push(model.subarray(at, at + 32));
  const leaks = async (dir: string): Promise<number> => {
    let found = 0;
    for (const path of await filesUnder(dir)) {
      const bytes = await readFile(path);
      found += windows.filter((w) => bytes.includes(w)).length;
    }
    return found;
  };

  // The check itself works: a plain store holds every window.
  const plainDir = await tempDir(t);
  const plain = await createFolderArtifactStore({ dir: plainDir });
  t.after(() => plain.close());
  await plain.put(model);
  assert.equal(await leaks(plainDir), windows.length);

  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir);
  const { digest } = await store.put(chunked(model));
  assert.equal(await leaks(dir), 0);
  assert.deepEqual(Buffer.from(await store.read(digest)), model);
});

test('a wrong, missing or malformed master key is refused at open, naming the problem', async (t) => {
  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir);
  const bytes = randomBytes(5000);
  const { digest } = await store.put(bytes);
  await store.close();
  const idA = keyring(KEY_A).current.id;
  const idB = keyring(KEY_B).current.id;

  const wrong = await rejectsWith(createFolderArtifactStore({ dir, keyring: keyring(KEY_B) }), 'MASTER_KEY_INVALID');
  assert.match(wrong.message, /wrong master key/);
  assert.ok(wrong.message.includes(idA) && wrong.message.includes(idB), wrong.message);
  assert.ok(!wrong.message.includes(KEY_B), 'the key itself is never echoed');

  const missing = await rejectsWith(openArtifactStore({ url: `file:${dir}` }), 'MASTER_KEY_INVALID');
  assert.match(missing.message, /is encrypted .* no master key is configured/);

  const short = await rejectsWith(
    openArtifactStore({ url: `file:${dir}`, encryption: { masterKey: 'c2hvcnQ=' } }),
    'MASTER_KEY_INVALID',
  );
  assert.match(short.message, /STRATUM_MASTER_KEY: expected a master key of 32 bytes/);

  // The right key, from a file, still reads.
  const keyFile = join(await tempDir(t), 'master.key');
  await writeFile(keyFile, `${KEY_A}\n`);
  const reopened = await openArtifactStore({ url: `file:${dir}`, encryption: { masterKeyFile: keyFile } });
  t.after(() => reopened.close());
  assert.deepEqual(Buffer.from(await reopened.read(digest)), bytes);
});

test('a changed byte anywhere, a cut body, swapped segments and a tampered key file are detected', async (t) => {
  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir);
  const sealed = SEGMENT_BYTES + TAG_BYTES;
  const fresh = async (): Promise<{ digest: string; path: string; original: Buffer }> => {
    // Different content each time, three full segments and a short one.
    const { digest } = await store.put(randomBytes(3 * SEGMENT_BYTES + 100));
    const path = bodyPath(dir, digest);
    return { digest, path, original: await readFile(path) };
  };

  for (const at of [0, 9, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + sealed - 1, HEADER_BYTES + 2 * sealed + 5]) {
    const { digest, path } = await fresh();
    await patch(path, (bytes) => {
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    });
    await expectCorrupt(store, digest);
  }

  // Cut at a segment boundary (the new last segment was not sealed as final) and mid-segment.
  for (const keep of [HEADER_BYTES + 3 * sealed, HEADER_BYTES + sealed, HEADER_BYTES + sealed + 10, HEADER_BYTES + 5]) {
    const { digest, path } = await fresh();
    await truncate(path, keep);
    await expectCorrupt(store, digest);
  }

  // Segments 0 and 1 swapped, and segment 1 duplicated over segment 2.
  {
    const { digest, path, original } = await fresh();
    const seg = (i: number): Buffer => original.subarray(HEADER_BYTES + i * sealed, HEADER_BYTES + (i + 1) * sealed);
    await writeFile(
      path,
      Buffer.concat([original.subarray(0, HEADER_BYTES), seg(1), seg(0), original.subarray(HEADER_BYTES + 2 * sealed)]),
    );
    await expectCorrupt(store, digest);
  }
  {
    const { digest, path, original } = await fresh();
    const seg = (i: number): Buffer => original.subarray(HEADER_BYTES + i * sealed, HEADER_BYTES + (i + 1) * sealed);
    await writeFile(
      path,
      Buffer.concat([
        original.subarray(0, HEADER_BYTES),
        seg(0),
        seg(1),
        seg(1),
        original.subarray(HEADER_BYTES + 3 * sealed),
      ]),
    );
    await expectCorrupt(store, digest);
  }

  // The body of one artifact moved over another's: its body id names no key file of that digest.
  {
    const one = await fresh();
    const two = await fresh();
    await writeFile(two.path, one.original);
    await expectCorrupt(store, two.digest);
  }

  // A key file edited, or missing.
  {
    const { digest } = await fresh();
    const [keyFile] = await keyFilesOf(dir, digest);
    assert.ok(keyFile !== undefined);
    const json = JSON.parse(await readFile(keyFile, 'utf8')) as { wrappedKey: string };
    const wrapped = Buffer.from(json.wrappedKey, 'base64');
    wrapped[0] = (wrapped[0] ?? 0) ^ 0x01;
    await writeFile(keyFile, JSON.stringify({ ...json, wrappedKey: wrapped.toString('base64') }));
    await expectCorrupt(store, digest);
    await rm(keyFile);
    const err = await rejectsWith(store.read(digest), 'ARTIFACT_CORRUPT');
    assert.match(err.message, /data key is missing/);
  }
});

test('rotation re-wraps the data keys and leaves every body byte for byte; afterwards only the new key opens the store', async (t) => {
  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir, { key: KEY_A });
  const contents = [randomBytes(10), randomBytes(2 * SEGMENT_BYTES + 3), randomBytes(0)];
  const digests = [];
  for (const bytes of contents) digests.push((await store.put(bytes)).digest);
  await store.close();
  const bodiesBefore = await Promise.all(digests.map((d) => readFile(bodyPath(dir, d))));
  const keysBefore = await Promise.all(
    digests.map(async (d) => readFile((await keyFilesOf(dir, d))[0] as string, 'utf8')),
  );

  // Without the old key as previous, the rotation cannot open the data keys.
  await rejectsWith(
    rotateArtifactStoreKeys({ url: `file:${dir}`, encryption: { masterKey: KEY_B } }),
    'MASTER_KEY_INVALID',
  );

  // Mid-rotation a server holding both keys reads everything.
  const during = await openEncrypted(t, dir, { key: KEY_B, previous: [KEY_A] });
  const result = await rotateArtifactStoreKeys({
    url: `file:${dir}`,
    encryption: { masterKey: KEY_B, previousMasterKeys: KEY_A },
  });
  assert.equal(result.rewrapped, 3);
  assert.equal(result.alreadyCurrent, 0);
  assert.equal(result.masterKeyId, keyring(KEY_B).current.id);
  assert.equal(result.previousMarkerKeyId, keyring(KEY_A).current.id);
  for (const [i, digest] of digests.entries()) {
    assert.deepEqual(Buffer.from(await during.read(digest)), contents[i]);
  }
  await during.close();

  const bodiesAfter = await Promise.all(digests.map((d) => readFile(bodyPath(dir, d))));
  assert.deepEqual(bodiesAfter, bodiesBefore, 'no body was rewritten');
  const keysAfter = await Promise.all(
    digests.map(async (d) => readFile((await keyFilesOf(dir, d))[0] as string, 'utf8')),
  );
  for (const [i, after] of keysAfter.entries()) assert.notEqual(after, keysBefore[i], 'every data key was re-wrapped');

  // Only the new key now.
  const after = await openEncrypted(t, dir, { key: KEY_B });
  for (const [i, digest] of digests.entries()) {
    assert.deepEqual(Buffer.from(await after.read(digest)), contents[i]);
    assert.deepEqual(await collect(await after.get(digest)), contents[i]);
  }
  await rejectsWith(createFolderArtifactStore({ dir, keyring: keyring(KEY_A) }), 'MASTER_KEY_INVALID');

  // Running it again finds nothing to do.
  const again = await rotateArtifactStoreKeys({ url: `file:${dir}`, encryption: { masterKey: KEY_B } });
  assert.deepEqual([again.rewrapped, again.alreadyCurrent], [0, 3]);
});

test('the same content put twice is one body and one data key', async (t) => {
  const dir = await tempDir(t);
  const store = await openEncrypted(t, dir);
  const bytes = randomBytes(SEGMENT_BYTES * 2 + 9);
  const first = await store.put(bytes);
  const body = await readFile(bodyPath(dir, first.digest));
  const second = await store.put(chunked(bytes));
  assert.equal(second.digest, first.digest);
  assert.ok(second.storedAt >= first.storedAt);
  assert.deepEqual(await readFile(bodyPath(dir, first.digest)), body, 'the stored body was kept');
  assert.equal((await filesUnder(join(dir, 'sha256'))).length, 1);
  assert.equal((await keyFilesOf(dir, first.digest)).length, 1);
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  // Delete takes the body and its key.
  assert.equal(await store.delete(first.digest), true);
  assert.deepEqual(await keyFilesOf(dir, first.digest), []);
});

test('plaintext artifacts written before encryption was turned on stay readable; new ones are encrypted', async (t) => {
  const dir = await tempDir(t);
  const plain = await createFolderArtifactStore({ dir });
  const legacy = randomBytes(3 * SEGMENT_BYTES);
  const { digest: legacyDigest } = await plain.put(legacy);
  await plain.close();

  const store = await openEncrypted(t, dir);
  assert.deepEqual(Buffer.from(await store.read(legacyDigest)), legacy);
  assert.deepEqual(await collect(await store.get(legacyDigest)), legacy);
  assert.equal((await store.stat(legacyDigest)).size, legacy.length);
  const fresh = randomBytes(777);
  const { digest } = await store.put(fresh);
  const onDisk = await readFile(bodyPath(dir, digest));
  assert.equal(onDisk.subarray(0, 8).toString('latin1'), 'STRMENC1');
  assert.ok(!onDisk.includes(fresh.subarray(0, 64)));

  // Re-uploading the legacy content encrypts it in place.
  await store.put(legacy);
  assert.ok(!(await readFile(bodyPath(dir, legacyDigest))).includes(legacy.subarray(0, 64)));
  assert.deepEqual(Buffer.from(await store.read(legacyDigest)), legacy);

  // A legacy body damaged is still caught by its digest.
  const plainAgain = randomBytes(1000);
  const legacyDir = await tempDir(t);
  const p = await createFolderArtifactStore({ dir: legacyDir });
  const { digest: d2 } = await p.put(plainAgain);
  await p.close();
  const handle = await open(bodyPath(legacyDir, d2), 'r+');
  await handle.write(Buffer.from([0x42]), 0, 1, 10);
  await handle.close();
  const encrypted = await openEncrypted(t, legacyDir);
  await rejectsWith(encrypted.read(d2), 'ARTIFACT_CORRUPT');
});

test('rotate-key --encrypt-plaintext seals the plaintext artifacts, and reports a damaged one instead of sealing it', async (t) => {
  const dir = await tempDir(t);
  const plain = await createFolderArtifactStore({ dir });
  const model = Buffer.from(FIXTURES.mlp.build());
  const { digest } = await plain.put(model);
  const damaged = randomBytes(5000);
  const { digest: damagedDigest } = await plain.put(damaged);
  await plain.close();
  await patch(bodyPath(dir, damagedDigest), (bytes) => {
    bytes[100] = (bytes[100] ?? 0) ^ 0x01;
  });

  const result = await rotateArtifactStoreKeys({
    url: `file:${dir}`,
    encryption: { masterKey: KEY_A },
    encryptPlaintext: true,
  });
  assert.equal(result.encrypted, 1);
  assert.deepEqual(result.corrupt, [damagedDigest]);
  const onDisk = await readFile(bodyPath(dir, digest));
  assert.ok(!onDisk.includes(model.subarray(1024, 1056)), 'the model is no longer in plaintext');
  const store = await openEncrypted(t, dir);
  assert.deepEqual(Buffer.from(await store.read(digest)), model);
  await rejectsWith(store.read(damagedDigest), 'ARTIFACT_CORRUPT');
});
