/**
 * writeFixtureRepository lays models out as `<dir>/<name>/1/model.onnx` and is idempotent.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { FIXTURE_NAMES, FIXTURES, type FixtureName } from '../../src/onnx/fixtures.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-fixtures-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes every fixture in the model-repository layout', async (t) => {
  const dir = await tempDir(t);
  const written = await writeFixtureRepository({ dir });
  assert.deepEqual(
    written.map((file) => file.name),
    FIXTURE_NAMES,
  );
  assert.ok(written.every((file) => file.status === 'written'));
  assert.deepEqual((await readdir(dir)).sort(), [...FIXTURE_NAMES].sort());
  const mlp = await readFile(join(dir, 'mlp', '1', 'model.onnx'));
  assert.ok(mlp.equals(FIXTURES.mlp.build()));
});

test('a second run leaves identical files alone; only limits the set', async (t) => {
  const dir = await tempDir(t);
  await writeFixtureRepository({ dir, only: ['fixed_batch', 'multi_io'] });
  const again = await writeFixtureRepository({ dir, only: ['fixed_batch', 'multi_io', 'bytes_echo'] });
  assert.deepEqual(
    again.map((file) => [file.name, file.status]),
    [
      ['fixed_batch', 'unchanged'],
      ['multi_io', 'unchanged'],
      ['bytes_echo', 'written'],
    ],
  );
  assert.deepEqual((await readdir(dir)).sort(), ['bytes_echo', 'fixed_batch', 'multi_io']);
  assert.deepEqual(await readdir(join(dir, 'multi_io', '1')), ['model.onnx']);
});

test('rejects an unknown fixture name before writing anything', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(writeFixtureRepository({ dir, only: ['mlp', 'nope' as FixtureName] }), /unknown fixture "nope"/);
  assert.deepEqual(await readdir(dir), []);
});
