/**
 * CSV files as datasets: declared and inferred schemas, header modes, every bad-input message, and
 * laziness (take(5) on a large file reads only its first chunks).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { csvDataset, csvDatasetWithLines } from '../../src/data/csv-source.ts';
import { StratumError } from '../../src/errors/index.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-csv-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function isError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    assert.match(error.message, pattern);
    return true;
  };
}

test('a declared schema types the columns, empty is null, undeclared columns are left out', async () => {
  const path = await file(
    'flights.csv',
    'origin,delay,cancelled,day,note\r\nJFK,12.5,false,2024-01-02,"late, again"\r\nLAX,,1,2024-01-03,\r\n',
  );
  const rows = await csvDataset(path, {
    schema: { origin: 'string', delay: 'number', cancelled: 'boolean', day: 'date' },
  }).toArray();
  assert.deepEqual(rows, [
    { origin: 'JFK', delay: 12.5, cancelled: false, day: new Date('2024-01-02') },
    { origin: 'LAX', delay: null, cancelled: true, day: new Date('2024-01-03') },
  ]);
  // The schema is the type: `delay` is number | null.
  const delay: number | null | undefined = rows[0]?.delay;
  assert.equal(delay, 12.5);
});

test('without a schema, types are inferred: number when every non-empty value parses, else string', async () => {
  const path = await file('inferred.csv', '\uFEFFid,score,name,blank\n1,0.5,a,\n2,,b,\n3,-1e3,7,\n');
  assert.deepEqual(await csvDataset(path).toArray(), [
    { id: 1, score: 0.5, name: 'a', blank: null },
    { id: 2, score: null, name: 'b', blank: null },
    { id: 3, score: -1000, name: '7', blank: null },
  ]);
});

test('a value after the inference window that breaks the inferred type names the line and column', async () => {
  const path = await file('late.csv', 'x\n1\n2\n3\nfour\n');
  await assert.rejects(
    csvDataset(path, { inferRows: 2 }).toArray(),
    isError(
      'BAD_REQUEST',
      /late\.csv: line 5, column 1 "x": expected a number \(inferred from the first 2 rows\), got "four"$/,
    ),
  );
});

test('every error names the file, the line in the file and the column, counting the lines of quoted fields, blank lines and CRLF', async () => {
  // Lines 1-2 the header (a quoted name spans two lines), 3-5 a row whose note spans three lines,
  // 6 blank, 7 a CRLF row; the bad cell or record is on line 8.
  const head = 'id,"the\nnote",age\r\n1,"a\nb\nc",41\n\n2,x,42\r\n';
  const cases: [string, string, Record<string, 'number' | 'string'> | undefined, RegExp][] = [
    ['type.csv', '3,y,thirty\n', undefined, /type\.csv: line 8, column 3 "age": expected a number \(inferred/],
    [
      'declared.csv',
      '3,y,thirty\n',
      { id: 'number', age: 'number' },
      /line 8, column 3 "age": expected a number, got "thirty"$/,
    ],
    ['ragged.csv', '3,y\n', undefined, /ragged\.csv: line 8 has 2 fields, the header has 3$/],
    ['quote.csv', '3,y,"43"z\n', undefined, /quote\.csv: line 8, column 3 "age": unexpected "z" after a closing quote/],
    [
      'open.csv',
      '3,y,"43\n',
      undefined,
      /open\.csv: line 8, column 3 "age": a quoted field opened on this line is not closed/,
    ],
  ];
  for (const [name, last, schema, pattern] of cases) {
    const path = await file(name, head + last);
    await assert.rejects(
      csvDataset(path, { ...(schema === undefined ? {} : { schema }), inferRows: 1 }).toArray(),
      isError('BAD_REQUEST', pattern),
      name,
    );
  }
  const typed = await file('typed-lines.csv', `${head}3,y,thirty\n`);
  await assert.rejects(
    csvDataset(typed, { types: { age: 'number' } }).toArray(),
    (error: unknown) =>
      isError('BAD_REQUEST', /line 8, column 3 "age": expected a number, got "thirty"$/)(error) &&
      JSON.stringify((error as StratumError).details) ===
        JSON.stringify({ file: typed, line: 8, column: 'age', columnNumber: 3, expected: 'a number' }),
  );
});

test('types fixes some columns and infers the others; csvDatasetWithLines gives each row its line', async () => {
  const path = await file('types.csv', 'id,code,note\n1,007,"two\nlines"\n\n2,,x\n');
  assert.deepEqual(await csvDataset(path, { types: { code: 'string' } }).toArray(), [
    { id: 1, code: '007', note: 'two\nlines' },
    { id: 2, code: null, note: 'x' },
  ]);
  assert.deepEqual(await csvDatasetWithLines(path, { types: { id: 'number' } }).toArray(), [
    { row: { id: 1, code: 7, note: 'two\nlines' }, line: 2 },
    { row: { id: 2, code: null, note: 'x' }, line: 5 },
  ]);
  assert.throws(
    () => csvDataset(path, { schema: { id: 'number' }, types: { id: 'number' } }),
    isError('BAD_REQUEST', /types: not allowed with a schema/),
  );
  await assert.rejects(
    csvDataset(path, { types: { age: 'number' } }).toArray(),
    isError('BAD_REQUEST', /types\.csv: column "age" is declared in the types but missing from the header/),
  );
});

test('header: false names columns column1…, an array names them; delimiter option', async () => {
  const path = await file('noheader.tsv', '1\tx\n2\ty\n');
  assert.deepEqual(await csvDataset(path, { header: false, delimiter: '\t' }).toArray(), [
    { column1: 1, column2: 'x' },
    { column1: 2, column2: 'y' },
  ]);
  assert.deepEqual(await csvDataset(path, { header: ['n', 's'], delimiter: '\t' }).toArray(), [
    { n: 1, s: 'x' },
    { n: 2, s: 'y' },
  ]);
});

test('a ragged row: "data.csv: line 18 has 4 fields, the header has 5"', async () => {
  const good = Array.from({ length: 16 }, (_, i) => `${i},b,c,d,e`).join('\n');
  const path = await file('data.csv', `a,b,c,d,e\n${good}\n16,b,c,d\n`);
  await assert.rejects(
    csvDataset(path).toArray(),
    isError('BAD_REQUEST', /data\.csv: line 18 has 4 fields, the header has 5$/),
  );
  // Rows before the bad one are delivered first (streaming).
  assert.equal(await csvDataset(path).take(16).count(), 16);
});

test('a declared column missing from the header is named', async () => {
  const path = await file('missing.csv', 'origin,delay\nJFK,1\n');
  await assert.rejects(
    csvDataset(path, { schema: { origin: 'string', dest: 'string' } }).toArray(),
    isError(
      'BAD_REQUEST',
      /missing\.csv: column "dest" is declared in the schema but missing from the header \(columns: origin, delay\)/,
    ),
  );
});

test('a wrong type in a declared schema: "data.csv: line 10, column 2 "delay": expected a number, got "abc""', async () => {
  const rows = Array.from({ length: 8 }, (_, i) => `F${i},${i}`).join('\n');
  const path = await file('typed.csv', `flight,delay\n${rows}\nF8,abc\n`);
  await assert.rejects(
    csvDataset(path, { schema: { flight: 'string', delay: 'number' } }).toArray(),
    isError('BAD_REQUEST', /typed\.csv: line 10, column 2 "delay": expected a number, got "abc"$/),
  );
  const dates = await file('dates.csv', 'day\nyesterday\n');
  await assert.rejects(
    csvDataset(dates, { schema: { day: 'date' } }).toArray(),
    isError('BAD_REQUEST', /dates\.csv: line 2, column 1 "day": expected a date \(ISO 8601\), got "yesterday"/),
  );
  const flags = await file('flags.csv', 'ok\ntrue\nmaybe\n');
  await assert.rejects(
    csvDataset(flags, { schema: { ok: 'boolean' } }).toArray(),
    isError('BAD_REQUEST', /flags\.csv: line 3, column 1 "ok": expected a boolean/),
  );
  const blank = await file('blank.csv', 'n\n" "\n');
  await assert.rejects(csvDataset(blank, { schema: { n: 'number' } }).toArray(), isError('BAD_REQUEST', /got " "/));
});

test('empty files and datasets fail when iterated, with a clear message', async () => {
  const empty = await file('empty.csv', '');
  const headerOnly = await file('header-only.csv', 'a,b\r\n');
  const dataset = csvDataset(empty);
  await assert.rejects(
    dataset.toArray(),
    isError('BAD_REQUEST', /empty\.csv: the file is empty \(expected a header row\)/),
  );
  await assert.rejects(
    csvDataset(headerOnly).count(),
    isError('BAD_REQUEST', /header-only\.csv: the dataset is empty \(no data rows\)/),
  );
  await assert.rejects(
    csvDataset(empty, { header: false }).count(),
    isError('BAD_REQUEST', /empty\.csv: the file is empty/),
  );
});

test('other bad input: unknown file, duplicate header, bad quoting, bad options', async () => {
  await assert.rejects(csvDataset(join(dir, 'nope.csv')).toArray(), isError('NOT_FOUND', /nope\.csv: no such file/));
  const dup = await file('dup.csv', 'a,b,a\n1,2,3\n');
  await assert.rejects(
    csvDataset(dup).toArray(),
    isError('BAD_REQUEST', /dup\.csv: the header names column "a" twice/),
  );
  const quotes = await file('quotes.csv', 'a\nok\n"open\n');
  await assert.rejects(
    csvDataset(quotes).toArray(),
    isError('BAD_REQUEST', /quotes\.csv: line 3, column 1 "a": a quoted field opened on this line is not closed/),
  );
  assert.throws(
    () => csvDataset(dup, { schema: { a: 'integer' as 'number' } }),
    isError('BAD_REQUEST', /dup\.csv: schema column "a": unknown type "integer"/),
  );
  assert.throws(() => csvDataset(dup, { inferRows: 0 }), isError('BAD_REQUEST', /inferRows/));
  assert.throws(() => csvDataset(dup, { delimiter: '' }), isError('BAD_REQUEST', /delimiter/));
});

test('is lazy and closes the file: take(5) on a ~16 MB file reads only the first chunks', async () => {
  const line = 'id,value,text\n';
  const body = Array.from({ length: 200_000 }, (_, i) => `${i},${i * 0.5},row number ${i} of the big file\n`).join('');
  const path = await file('big.csv', line + body);
  const size = Buffer.byteLength(line + body);
  assert.ok(size > 8_000_000);
  let bytesRead = 0;
  let mapped = 0;
  const dataset = csvDataset(path, { onProgress: (bytes) => (bytesRead = bytes) }).map((row) => {
    mapped++;
    return row;
  });
  assert.equal(bytesRead, 0, 'nothing read before iteration');
  const rows = await dataset.take(5).toArray();
  assert.deepEqual(rows[4], { id: 4, value: 2, text: 'row number 4 of the big file' });
  assert.equal(mapped, 5);
  // Inference holds the first 1000 rows (~40 kB), so one or two 64 kB chunks are read.
  assert.ok(bytesRead <= 3 * 65_536, `read ${bytesRead} of ${size} bytes`);
  assert.equal(await csvDataset(path).count(), 200_000);
});
