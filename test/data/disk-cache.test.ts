/** `cache({ path })`: the first complete pass writes the file, later passes replay it without the source. */
import assert from 'node:assert/strict';
import { access, mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Dataset } from '../../src/data/dataset.ts';
import { StratumError } from '../../src/errors/index.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-cache-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function counted(n: number): { dataset: Dataset<{ i: number; at: Date }>; reads: { count: number } } {
  const reads = { count: 0 };
  const dataset = new Dataset(async function* () {
    for (let i = 0; i < n; i++) {
      reads.count++;
      yield { i, at: new Date(i * 1000) };
    }
  });
  return { dataset, reads };
}

test('replays the file without reading the source, across Dataset instances; dates survive', async () => {
  const path = join(dir, 'rows.cache');
  const { dataset, reads } = counted(2000);
  const expected = Array.from({ length: 2000 }, (_, i) => ({ i, at: new Date(i * 1000) }));
  assert.deepEqual(await dataset.cache({ path }).toArray(), expected);
  assert.equal(reads.count, 2000);
  assert.deepEqual(await dataset.cache({ path }).toArray(), expected);
  assert.deepEqual(await dataset.cache({ path }).take(3).count(), 3);
  assert.equal(reads.count, 2000, 'the source was not read again');
});

test('an interrupted first pass leaves no cache file and no temporary file', async () => {
  const path = join(dir, 'partial.cache');
  const { dataset, reads } = counted(100);
  assert.equal(await dataset.cache({ path }).take(10).count(), 10);
  await assert.rejects(access(path));
  assert.deepEqual(
    (await readdir(dir)).filter((name) => name.startsWith('partial')),
    [],
  );
  assert.equal(await dataset.cache({ path }).count(), 100);
  assert.equal(reads.count, 110);
});

test('a truncated cache file and an unwritable path fail with clear messages', async () => {
  const path = join(dir, 'truncated.cache');
  const { dataset } = counted(10);
  await dataset.cache({ path }).count();
  await truncate(path, 30);
  await assert.rejects(
    dataset.cache({ path }).toArray(),
    (error: unknown) =>
      error instanceof StratumError && /truncated\.cache: the cache file is truncated/.test(error.message),
  );
  await assert.rejects(
    dataset.cache({ path: join(dir, 'no-such-dir', 'x.cache') }).toArray(),
    (error: unknown) => error instanceof StratumError && /x\.cache: cannot write the cache file/.test(error.message),
  );
});
