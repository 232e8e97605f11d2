/** JSON Lines files as datasets: schema checks, bad lines named by file and line, laziness. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jsonlDataset } from '../../src/data/jsonl-source.ts';
import { StratumError } from '../../src/errors/index.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-jsonl-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

function isError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    assert.match(error.message, pattern);
    return true;
  };
}

test('without a schema, objects pass as parsed; blank lines are skipped', async () => {
  const path = await file('plain.jsonl', ['{"a":1,"b":[1,2]}', '', '  ', '{"a":"x"}']);
  assert.deepEqual(await jsonlDataset(path).toArray(), [{ a: 1, b: [1, 2] }, { a: 'x' }]);
});

test('a declared schema checks and keeps the declared keys; null is missing; dates from strings or epoch ms', async () => {
  const path = await file('typed.jsonl', [
    '{"user":"ann","score":3,"ok":true,"at":"2024-05-01T00:00:00Z","extra":1}',
    '{"user":"bob","score":null,"ok":false,"at":0}',
  ]);
  const rows = await jsonlDataset(path, {
    schema: { user: 'string', score: 'number', ok: 'boolean', at: 'date' },
  }).toArray();
  assert.deepEqual(rows, [
    { user: 'ann', score: 3, ok: true, at: new Date('2024-05-01T00:00:00Z') },
    { user: 'bob', score: null, ok: false, at: new Date(0) },
  ]);
  const score: number | null | undefined = rows[1]?.score;
  assert.equal(score, null);
});

test('bad JSON: "file: line 12: not valid JSON: …"', async () => {
  const lines = Array.from({ length: 11 }, (_, i) => JSON.stringify({ i }));
  const path = await file('broken.jsonl', [...lines, '{"i": 11,']);
  await assert.rejects(
    jsonlDataset(path).toArray(),
    isError('BAD_REQUEST', /broken\.jsonl: line 12: not valid JSON: /),
  );
  assert.equal(await jsonlDataset(path).take(11).count(), 11);
});

test('a line that is not an object, a missing key and a wrong type are named with line and column', async () => {
  const array = await file('array.jsonl', ['{"a":1}', '[1,2]']);
  await assert.rejects(
    jsonlDataset(array).toArray(),
    isError('BAD_REQUEST', /array\.jsonl: line 2: expected a JSON object, got \[1,2\]/),
  );
  const missing = await file('missing.jsonl', ['{"delay":1}', '{"other":2}']);
  await assert.rejects(
    jsonlDataset(missing, { schema: { delay: 'number' } }).toArray(),
    isError('BAD_REQUEST', /missing\.jsonl: line 2: column "delay" is declared in the schema but missing/),
  );
  const wrong = await file('wrong.jsonl', ['{"delay":1}', '', '{"delay":"abc"}']);
  await assert.rejects(
    jsonlDataset(wrong, { schema: { delay: 'number' } }).toArray(),
    isError('BAD_REQUEST', /wrong\.jsonl: line 3, column "delay": expected a number, got "abc"$/),
  );
});

test('an empty dataset and an unknown file fail clearly', async () => {
  const empty = await file('empty.jsonl', ['']);
  await assert.rejects(jsonlDataset(empty).toArray(), isError('BAD_REQUEST', /empty\.jsonl: the dataset is empty/));
  await assert.rejects(
    jsonlDataset(join(dir, 'nope.jsonl')).count(),
    isError('NOT_FOUND', /nope\.jsonl: no such file/),
  );
});

test('is lazy: take(5) on a ~9 MB file reads only the first chunks', async () => {
  const lines = Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ id: i, text: `line ${i}` }));
  const path = await file('big.jsonl', lines);
  let bytesRead = 0;
  const rows = await jsonlDataset(path, { onProgress: (bytes) => (bytesRead = bytes) })
    .take(5)
    .toArray();
  assert.deepEqual(rows[4], { id: 4, text: 'line 4' });
  assert.ok(bytesRead > 0 && bytesRead <= 4 * 65_536, `read ${bytesRead} bytes`);
});
