/** Content versions: the same bytes give the same version whatever the path or mtime. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { datasetVersion } from '../../src/data/dataset-version.ts';
import { StratumError } from '../../src/errors/index.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-version-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('one file: its sha256 and size; independent of path and mtime', async () => {
  const a = join(dir, 'a.csv');
  const b = join(dir, 'copy', 'b.csv');
  await mkdir(join(dir, 'copy'));
  await writeFile(a, 'x,y\n1,2\n');
  await writeFile(b, 'x,y\n1,2\n');
  await utimes(b, new Date(0), new Date(0));
  const va = await datasetVersion(a);
  const vb = await datasetVersion(b);
  const expected = `sha256:${createHash('sha256').update('x,y\n1,2\n').digest('hex')}`;
  assert.deepEqual(va, { digest: expected, size: 8, files: [{ path: a, digest: expected, size: 8 }] });
  assert.equal(vb.digest, va.digest);
  await writeFile(b, 'x,y\n1,3\n');
  assert.notEqual((await datasetVersion(b)).digest, va.digest);
});

test('several files: a digest over the file digests in order, and the total size', async () => {
  const a = join(dir, 'p1.csv');
  const b = join(dir, 'p2.csv');
  await writeFile(a, 'one\n');
  await writeFile(b, 'two!\n');
  const ab = await datasetVersion([a, b]);
  const ba = await datasetVersion([b, a]);
  assert.equal(ab.size, 9);
  assert.equal(ab.files.length, 2);
  assert.notEqual(ab.digest, ba.digest, 'order is part of the dataset');
  const hex = (text: string) => createHash('sha256').update(text).digest('hex');
  assert.equal(ab.digest, `sha256:${hex(`${hex('one\n')} 4\n${hex('two!\n')} 5\n`)}`);
});

test('bad input: no files, a missing file, a directory', async () => {
  const bad = (code: string, pattern: RegExp) => (error: unknown) =>
    error instanceof StratumError && error.code === code && pattern.test(error.message);
  await assert.rejects(datasetVersion([]), bad('BAD_REQUEST', /at least one file/));
  await assert.rejects(datasetVersion(join(dir, 'none.csv')), bad('NOT_FOUND', /none\.csv: no such file/));
  await assert.rejects(datasetVersion(dir), bad('BAD_REQUEST', /not a regular file/));
});
