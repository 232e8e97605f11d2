/**
 * The training reader names where bad data is: the line of the file for CSV and JSON Lines (every
 * line counts), the row for queries; the column; and, for a missing value the spec does not fill,
 * the spec key to set. A CSV schema that declares a numeric feature column as text is refused
 * before any data is read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { readTrainingData } from '../../../src/train/run/read-training-data.ts';
import { parseTrainSpec, type TrainSpecInput } from '../../../src/train/run/train-spec.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-read-training-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(source: TrainSpecInput['data']['source'], options: { objective?: 'binary' | 'regression' } = {}) {
  return parseTrainSpec({
    name: 'people',
    data: { source, label: 'label' },
    features: {
      transforms: [
        { column: 'age', transform: 'standardize' },
        { column: 'income', transform: 'minmax', missing: 'median' },
        { column: 'city', transform: 'onehot' },
      ],
    },
    model: { kind: 'linear', objective: options.objective ?? 'binary' },
  });
}

function rejectsWith(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof StratumError, String(error));
    assert.equal(error.code, 'BAD_REQUEST');
    assert.match(error.message, pattern);
    return true;
  };
}

test('JSON Lines: a text age, and a missing one, name the line of the file', async () => {
  const path = join(dir, 'people.jsonl');
  const good = '{"age":30,"income":1,"city":"paris","label":1}\n\n{"age":31,"income":null,"city":"lyon","label":0}\n';
  await writeFile(path, `${good}{"age":"thirty","income":2,"city":"rome","label":1}\n`);
  await assert.rejects(
    readTrainingData({ spec: spec({ format: 'jsonl', path }), baseDir: dir }),
    rejectsWith(/people\.jsonl: line 4, column "age": expected a number, got "thirty"$/),
  );
  await writeFile(path, `${good}{"age":null,"income":2,"city":"rome","label":1}\n`);
  await assert.rejects(
    readTrainingData({ spec: spec({ format: 'jsonl', path }), baseDir: dir }),
    rejectsWith(
      /people\.jsonl: line 4, column "age": the value is missing, and features\.transforms\[0\] \(standardize\) refuses missing values/,
    ),
  );
  // income is declared `missing: median`: its null is kept for the features to fill.
  await writeFile(path, good);
  const data = await readTrainingData({ spec: spec({ format: 'jsonl', path }), baseDir: dir });
  assert.deepEqual(data.rows[1], { age: 31, income: null, city: 'lyon' });
});

test('CSV: a regression label that is not a number names its line, as any numeric column does', async () => {
  const path = join(dir, 'regression.csv');
  await writeFile(path, 'age,income,city,label\n30,1,paris,1.5\n31,2,"lyon\nsud",2.5\n32,3,rome,n/a\n');
  await assert.rejects(
    readTrainingData({ spec: spec({ format: 'csv', path }, { objective: 'regression' }), baseDir: dir }),
    rejectsWith(/regression\.csv: line 5, column 4 "label": expected a number, got "n\/a"$/),
  );
});

test('a query has no lines: its rows are numbered', async () => {
  const path = join(dir, 'query.csv');
  await writeFile(path, 'age,income,city,label\n30,1,paris,1\n,2,lyon,0\n');
  await assert.rejects(
    readTrainingData({
      spec: spec({ format: 'sql', query: `SELECT * FROM read_csv('${path}')` }),
      baseDir: dir,
    }),
    rejectsWith(/sql query ".*": row 2, column "age": the value is missing, and features\.transforms\[0\]/),
  );
});

test('a CSV schema may not declare as text a column a numeric transform reads', () => {
  assert.throws(
    () =>
      spec({
        format: 'csv',
        path: 'x.csv',
        schema: { age: 'string', income: 'number', city: 'string', label: 'number' },
      }),
    rejectsWith(
      /invalid training spec: data\.source\.schema\.age: declared "string", but features\.transforms\[0\] \(standardize\) reads column "age" as a number; declare it "number"$/,
    ),
  );
});
