/**
 * The conformance suite of the ArtifactStore contract. Every implementation runs it on its real
 * engine (a temp folder today, an object-store bucket later) through a small harness that can do
 * what the contract cannot: damage a stored byte, age an artifact, list upload leftovers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import type { ArtifactInfo, ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { StratumError, type ErrorCode } from '../../src/errors/index.ts';

/** One opened store plus the back doors the suite needs. */
export interface ArtifactStoreUnderTest {
  readonly store: ArtifactStore;
  /** Flips one stored byte of the artifact behind the store's back. */
  corrupt(digest: string): Promise<void>;
  /** Makes the artifact look as if it was stored `ms` milliseconds ago. */
  backdate(digest: string, ms: number): Promise<void>;
  /** Partial uploads the implementation still holds (temp files, multipart uploads); [] when clean. */
  leftovers(): Promise<string[]>;
}

/** How the suite gets a fresh, empty store; the harness registers its own teardown on `t`. */
export interface ArtifactStoreHarness {
  /** Implementation name, used in test titles. */
  readonly name: string;
  /**
   * The store authenticates its content piece by piece (an encrypted store), so a streamed get
   * stops at the first damaged piece instead of delivering every byte and failing at the end.
   * @default false
   */
  readonly authenticatesPieces?: boolean;
  open(t: TestContext): Promise<ArtifactStoreUnderTest>;
}

/** sha256 hex of `bytes`, computed independently of the store. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Collects an async iterable of chunks into one buffer. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Asserts that `promise` rejects with a StratumError of `code`; returns it. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<StratumError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return err instanceof StratumError && err.code === code;
  });
  return caught as StratumError;
}

/** Yields `bytes` in irregular chunks (1 byte up to 256 KiB), as a network body would arrive. */
export async function* chunked(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let step = 1;
  while (offset < bytes.byteLength) {
    const size = Math.min(bytes.byteLength - offset, 1 + ((step * 7919) % (256 * 1024)));
    yield bytes.subarray(offset, offset + size);
    offset += size;
    step++;
    // Let other work interleave, like a socket would.
    if (step % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function listAll(store: ArtifactStore): Promise<ArtifactInfo[]> {
  const all: ArtifactInfo[] = [];
  for await (const info of store.list()) all.push(info);
  return all;
}

const MINUTE = 60_000;

/** Digests that must be refused before they reach a path or key. */
export const BAD_DIGESTS: readonly string[] = Object.freeze([
  '../../etc/passwd',
  `../${'a'.repeat(61)}`,
  'A'.repeat(64),
  sha256(new Uint8Array([1])).toUpperCase(),
  'abc123',
  '',
  'a'.repeat(65),
  `${'a'.repeat(63)}/`,
  `${'a'.repeat(63)}\0`,
  `sha256:${'a'.repeat(64)}`,
]);

/** Registers the suite for one implementation. */
export function artifactStoreConformance(harness: ArtifactStoreHarness): void {
  describe(`ArtifactStore conformance: ${harness.name}`, () => {
    test('round-trips bytes; the digest is the sha256 of the content', async (t) => {
      const { store } = await harness.open(t);
      const bytes = new TextEncoder().encode('hello, artifacts');
      const info = await store.put(bytes);
      assert.equal(info.digest, sha256(bytes));
      assert.equal(info.size, bytes.byteLength);
      assert.ok(Math.abs(info.storedAt - Date.now()) < MINUTE);
      assert.equal(await store.has(info.digest), true);
      assert.deepEqual(await store.stat(info.digest), info);
      const read = await store.read(info.digest);
      assert.deepEqual(Buffer.from(read), Buffer.from(bytes));
      assert.equal(read.buffer.byteLength, read.byteLength, 'read() bytes own their ArrayBuffer');
      const stream = await store.get(info.digest);
      assert.equal(stream.size, bytes.byteLength);
      assert.equal(stream.digest, info.digest);
      assert.deepEqual(await collect(stream), Buffer.from(bytes));
      // A stream can be read again.
      assert.deepEqual(await collect(stream), Buffer.from(bytes));
    });

    test('stores the empty artifact', async (t) => {
      const { store } = await harness.open(t);
      const info = await store.put(new Uint8Array(0));
      assert.deepEqual([info.digest, info.size], [sha256(new Uint8Array(0)), 0]);
      assert.equal((await store.read(info.digest)).byteLength, 0);
    });

    test('round-trips a multi-MB async-iterable stream in irregular chunks', async (t) => {
      const { store, leftovers } = await harness.open(t);
      const bytes = randomBytes(6 * 1024 * 1024 + 123);
      const info = await store.put(chunked(bytes));
      assert.deepEqual([info.digest, info.size], [sha256(bytes), bytes.byteLength]);
      assert.ok((await store.read(info.digest)).every((value, i) => value === bytes[i]));
      const streamed = await collect(await store.get(info.digest));
      assert.equal(sha256(streamed), info.digest);
      assert.deepEqual(await leftovers(), []);
    });

    test('putting the same content again is idempotent and refreshes storedAt', async (t) => {
      const { store, backdate } = await harness.open(t);
      const bytes = randomBytes(4096);
      const first = await store.put(bytes);
      await backdate(first.digest, 60 * MINUTE);
      assert.ok((await store.stat(first.digest)).storedAt < Date.now() - 59 * MINUTE);
      const second = await store.put(chunked(bytes));
      assert.deepEqual([second.digest, second.size], [first.digest, first.size]);
      assert.ok(second.storedAt > Date.now() - MINUTE);
      assert.deepEqual(
        (await listAll(store)).map((info) => info.digest),
        [first.digest],
      );
      // The refresh is what keeps a re-upload whose version row is not written yet out of GC.
      const gc = await store.collectGarbage({ referenced: new Set() });
      assert.deepEqual(gc.removed, []);
    });

    test('expectedDigest: a match is stored, a mismatch is refused and leaves nothing', async (t) => {
      const { store, leftovers } = await harness.open(t);
      const bytes = randomBytes(1000);
      const info = await store.put(bytes, { expectedDigest: sha256(bytes) });
      assert.equal(info.digest, sha256(bytes));
      assert.equal(await store.delete(info.digest), true);

      const other = sha256(new Uint8Array([42]));
      const err = await rejectsWith(store.put(chunked(bytes), { expectedDigest: other }), 'BAD_REQUEST');
      assert.match(err.message, new RegExp(`${sha256(bytes)}.*${other}`));
      assert.deepEqual(err.details, { expected: other, actual: sha256(bytes), size: bytes.byteLength });
      assert.equal(await store.has(sha256(bytes)), false);
      assert.equal(await store.has(other), false);
      assert.deepEqual(await listAll(store), []);
      assert.deepEqual(await leftovers(), []);
    });

    test('a malformed expectedDigest is refused', async (t) => {
      const { store, leftovers } = await harness.open(t);
      await rejectsWith(store.put(new Uint8Array([1]), { expectedDigest: 'abc' }), 'BAD_REQUEST');
      assert.deepEqual(await listAll(store), []);
      assert.deepEqual(await leftovers(), []);
    });

    test('maxBytes: the limit itself is accepted, one byte more is refused while streaming', async (t) => {
      const { store, leftovers } = await harness.open(t);
      const bytes = randomBytes(10_000);
      assert.equal((await store.put(bytes, { maxBytes: 10_000 })).size, 10_000);
      await store.delete(sha256(bytes));
      const err = await rejectsWith(store.put(chunked(bytes), { maxBytes: 9_999 }), 'BODY_TOO_LARGE');
      assert.match(err.message, /9999 bytes/);
      assert.deepEqual(await listAll(store), []);
      assert.deepEqual(await leftovers(), []);

      // An endless source: the store must stop reading it at the limit, and release it.
      let pulled = 0;
      let released = false;
      async function* endless(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            pulled++;
            yield new Uint8Array(64 * 1024);
          }
        } finally {
          released = true;
        }
      }
      await rejectsWith(store.put(endless(), { maxBytes: 1024 * 1024 }), 'BODY_TOO_LARGE');
      assert.equal(pulled, 17, 'reads one chunk past 1 MiB, then stops');
      assert.equal(released, true, 'the source is closed');
      assert.deepEqual(await leftovers(), []);
    });

    test('a source that fails midway leaves nothing visible and nothing behind', async (t) => {
      const { store, leftovers } = await harness.open(t);
      const bytes = randomBytes(3 * 1024 * 1024);
      const failure = new Error('connection reset by peer');
      async function* failing(): AsyncGenerator<Uint8Array> {
        let sent = 0;
        for await (const chunk of chunked(bytes)) {
          yield chunk;
          sent += chunk.byteLength;
          if (sent > bytes.byteLength / 2) throw failure;
        }
      }
      await assert.rejects(store.put(failing()), (err) => err === failure);
      assert.equal(await store.has(sha256(bytes)), false);
      assert.deepEqual(await listAll(store), []);
      assert.deepEqual(await leftovers(), []);
    });

    test('a chunk that is not bytes is refused', async (t) => {
      const { store, leftovers } = await harness.open(t);
      async function* strings(): AsyncGenerator<unknown> {
        yield new Uint8Array([1]);
        yield 'text';
      }
      await rejectsWith(store.put(strings() as AsyncIterable<Uint8Array>), 'BAD_REQUEST');
      assert.deepEqual(await listAll(store), []);
      assert.deepEqual(await leftovers(), []);
    });

    test('concurrent puts of the same content store it once', async (t) => {
      const { store, leftovers } = await harness.open(t);
      const bytes = randomBytes(512 * 1024);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.put(i % 2 === 0 ? bytes : chunked(bytes))),
      );
      assert.ok(results.every((info) => info.digest === sha256(bytes) && info.size === bytes.byteLength));
      assert.equal((await listAll(store)).length, 1);
      assert.equal(sha256(await store.read(sha256(bytes))), sha256(bytes));
      assert.deepEqual(await leftovers(), []);
    });

    test('concurrent puts of different content are all stored; list is in digest order', async (t) => {
      const { store } = await harness.open(t);
      const contents = Array.from({ length: 12 }, () => randomBytes(2048));
      await Promise.all(contents.map((bytes) => store.put(chunked(bytes))));
      const listed = await listAll(store);
      assert.deepEqual(
        listed.map((info) => info.digest),
        contents.map(sha256).sort(),
      );
      assert.ok(listed.every((info) => info.size === 2048));
    });

    test('a missing digest is ARTIFACT_NOT_FOUND; has and delete say false', async (t) => {
      const { store } = await harness.open(t);
      const missing = sha256(new TextEncoder().encode('never stored'));
      const err = await rejectsWith(store.read(missing), 'ARTIFACT_NOT_FOUND');
      assert.match(err.message, new RegExp(missing));
      await rejectsWith(store.get(missing), 'ARTIFACT_NOT_FOUND');
      await rejectsWith(store.stat(missing), 'ARTIFACT_NOT_FOUND');
      assert.equal(await store.has(missing), false);
      assert.equal(await store.delete(missing), false);
    });

    test('delete removes the artifact once', async (t) => {
      const { store } = await harness.open(t);
      const { digest } = await store.put(randomBytes(100));
      assert.equal(await store.delete(digest), true);
      assert.equal(await store.has(digest), false);
      assert.equal(await store.delete(digest), false);
      await rejectsWith(store.read(digest), 'ARTIFACT_NOT_FOUND');
    });

    test('malformed digests are BAD_REQUEST in every method, never a path', async (t) => {
      const { store } = await harness.open(t);
      await store.put(new Uint8Array([1]));
      for (const digest of BAD_DIGESTS) {
        await rejectsWith(store.get(digest), 'BAD_REQUEST');
        await rejectsWith(store.read(digest), 'BAD_REQUEST');
        await rejectsWith(store.has(digest), 'BAD_REQUEST');
        await rejectsWith(store.stat(digest), 'BAD_REQUEST');
        await rejectsWith(store.delete(digest), 'BAD_REQUEST');
        await rejectsWith(store.put(new Uint8Array([1]), { expectedDigest: digest }), 'BAD_REQUEST');
      }
      assert.equal((await listAll(store)).length, 1);
    });

    test('corruption is detected by read and, at the end, by a streamed get', async (t) => {
      const { store, corrupt } = await harness.open(t);
      const bytes = randomBytes(3 * 1024 * 1024);
      const { digest, size } = await store.put(bytes);
      await corrupt(digest);
      const err = await rejectsWith(store.read(digest), 'ARTIFACT_CORRUPT');
      assert.equal(err.details?.['digest'], digest);

      const stream = await store.get(digest);
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) received += chunk.byteLength;
        })(),
        (e: unknown) => e instanceof StratumError && e.code === 'ARTIFACT_CORRUPT',
      );
      if (harness.authenticatesPieces === true) {
        // The damaged piece (in the middle) fails its own tag: nothing from it onwards is delivered.
        assert.ok(received < size, `${received} of ${size} bytes delivered`);
      } else {
        // Every byte was delivered before the error: the check is at the end, as streaming requires.
        assert.equal(received, size);
      }
      // Metadata alone does not read the content, so it still answers.
      assert.equal(await store.has(digest), true);
    });

    test('collectGarbage removes exactly the unreferenced artifacts older than graceMs', async (t) => {
      const { store, backdate } = await harness.open(t);
      const [kept, oldA, oldB, young] = await Promise.all(
        [100, 200, 300, 400].map((size) => store.put(randomBytes(size))),
      );
      assert.ok(kept && oldA && oldB && young);
      for (const info of [kept, oldA, oldB]) await backdate(info.digest, 60 * MINUTE);
      const referenced = new Set([kept.digest]);
      const byDigest = (infos: readonly ArtifactInfo[]): string[] => infos.map((info) => info.digest).sort();

      const dry = await store.collectGarbage({ referenced, graceMs: 30 * MINUTE, dryRun: true });
      assert.deepEqual(byDigest(dry.removed), byDigest([oldA, oldB]));
      assert.equal(dry.freedBytes, 500);
      assert.equal((await listAll(store)).length, 4, 'a dry run removes nothing');

      const real = await store.collectGarbage({ referenced, graceMs: 30 * MINUTE });
      assert.deepEqual(byDigest(real.removed), byDigest([oldA, oldB]));
      assert.equal(real.freedBytes, 500);
      assert.deepEqual(byDigest(await listAll(store)), byDigest([kept, young]));

      const again = await store.collectGarbage({ referenced, graceMs: 30 * MINUTE });
      assert.deepEqual(again, { removed: [], freedBytes: 0 });

      const noGrace = await store.collectGarbage({ referenced, graceMs: 0 });
      assert.deepEqual(byDigest(noGrace.removed), [young.digest]);
      assert.deepEqual(byDigest(await listAll(store)), [kept.digest]);
    });

    test('collectGarbage keeps unreferenced artifacts younger than 10 minutes by default', async (t) => {
      const { store, backdate } = await harness.open(t);
      const nine = await store.put(randomBytes(10));
      const eleven = await store.put(randomBytes(11));
      await backdate(nine.digest, 9 * MINUTE);
      await backdate(eleven.digest, 11 * MINUTE);
      const { removed } = await store.collectGarbage({ referenced: new Set() });
      assert.deepEqual(
        removed.map((info) => info.digest),
        [eleven.digest],
      );
      assert.equal(await store.has(nine.digest), true);
    });

    test('collectGarbage rejects a negative graceMs', async (t) => {
      const { store } = await harness.open(t);
      await rejectsWith(store.collectGarbage({ referenced: new Set(), graceMs: -1 }), 'BAD_REQUEST');
    });

    test('close waits for an upload in flight, is idempotent, and refuses work afterwards', async (t) => {
      const { store } = await harness.open(t);
      let finishUpload = (): void => {};
      const gate = new Promise<void>((resolve) => (finishUpload = resolve));
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array([1, 2, 3]);
        await gate;
        yield new Uint8Array([4, 5, 6]);
      }
      const events: string[] = [];
      const upload = store.put(slow()).then((info) => {
        events.push('put');
        return info;
      });
      await new Promise((resolve) => setImmediate(resolve));
      const closing = store.close().then(() => events.push('close'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(events, [], 'close waits for the upload');
      finishUpload();
      await closing;
      assert.deepEqual(events, ['put', 'close']);
      assert.equal((await upload).size, 6);
      await store.close();
      await rejectsWith(store.put(new Uint8Array([1])), 'SHUTTING_DOWN');
      await rejectsWith(store.has((await upload).digest), 'SHUTTING_DOWN');
    });
  });
}
