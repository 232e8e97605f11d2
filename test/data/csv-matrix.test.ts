/**
 * The numeric CSV reader: the same values as csvDataset (rounded to float32) on files of mixed
 * number shapes, numbers identical to `Math.fround(Number(text))` on 100k generated strings,
 * worker threads giving the same batches as the calling thread (and gone after every ending,
 * counted from /proc/self/status), every request to them settled whatever happens to the worker,
 * and every bad-input message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ColumnSchema } from '../../src/data/column-schema.ts';
import { NOT_FAST, scanNumber } from '../../src/data/csv-matrix-number.ts';
import { CsvMatrixPool } from '../../src/data/csv-matrix-pool.ts';
import { type FloatBatch, csvMatrixBatches, readCsvMatrix } from '../../src/data/csv-matrix.ts';
import { csvDataset } from '../../src/data/csv-source.ts';
import { StratumError } from '../../src/errors/index.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { BASELINE_THREADS, osThreads, threadsEnded } from '../helpers/os-threads.ts';
import { waitFor } from '../helpers/wait-for.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-csv-matrix-'));
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

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

/** A number written in one of many shapes: the fast path's and the fallback's. */
/**
 * A number in one of many shapes. A finite double beyond float32's range is refused by the reader
 * (tested apart), so none is generated; `1e400` (Infinity already as a double) still is.
 */
function numberText(next: () => number): string {
  for (;;) {
    const text = anyNumberText(next);
    const value = Math.abs(Number(text));
    if (!(Number.isFinite(value) && !Number.isFinite(Math.fround(value)))) return text;
  }
}

function anyNumberText(next: () => number): string {
  const digits = (count: number): string => Array.from({ length: count }, () => Math.floor(next() * 10)).join('');
  const sign = next() < 0.3 ? '-' : next() < 0.1 ? '+' : '';
  const shape = next();
  if (shape < 0.02)
    return ['NaN', 'Infinity', '-Infinity', '+Infinity', '0x1F', ' 12 ', '1e400', '-0', '0.0'][Math.floor(next() * 9)]!;
  let text = digits(1 + Math.floor(next() * 20));
  if (next() < 0.1) text = `000${text}`;
  if (next() < 0.7) {
    const point = Math.floor(next() * (text.length + 1));
    text = `${text.slice(0, point)}.${text.slice(point)}`;
    if (text === '.') text = '0.';
  }
  if (next() < 0.3)
    text += `${next() < 0.5 ? 'e' : 'E'}${next() < 0.5 ? '-' : next() < 0.5 ? '+' : ''}${Math.floor(next() * 45)}`;
  return sign + text;
}

function assertSameFloats(actual: Float32Array, expected: Float32Array | readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      assert.fail(`${what}: value ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** csvDataset's rows as the float32 matrix the numeric reader should give. */
async function viaCsvDataset(path: string, columns: readonly string[]): Promise<number[]> {
  const schema: ColumnSchema = Object.fromEntries(columns.map((name) => [name, 'number']));
  const values: number[] = [];
  for await (const row of csvDataset(path, { schema })) {
    for (const name of columns) {
      const value = row[name];
      values.push(value === null || value === undefined ? Number.NaN : Math.fround(value as number));
    }
  }
  return values;
}

function concat(batches: readonly FloatBatch[]): Float32Array {
  const out = new Float32Array(batches.reduce((sum, batch) => sum + batch.data.length, 0));
  let offset = 0;
  for (const batch of batches) {
    out.set(batch.data, offset);
    offset += batch.data.length;
  }
  return out;
}

/** A numeric CSV without quotes: `rows` rows of `columns` columns of many number shapes, some empty. */
function numericCsv(options: { rows: number; columns: number; seed: number; newline: string }): string {
  const next = mulberry32(options.seed);
  const header = Array.from({ length: options.columns }, (_, i) => `x${i}`).join(',');
  const lines = [header];
  for (let r = 0; r < options.rows; r++) {
    lines.push(Array.from({ length: options.columns }, () => (next() < 0.05 ? '' : numberText(next))).join(','));
  }
  return lines.join(options.newline) + options.newline;
}

test('equals csvDataset (as float32) on thousands of rows of mixed shapes, CRLF, quotes, blank lines and a BOM', async () => {
  const next = mulberry32(7);
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const lines = [`\uFEFF${names.join(',')}`];
  for (let r = 0; r < 3000; r++) {
    const cells = names.map(() => {
      const roll = next();
      if (roll < 0.05) return '';
      if (roll < 0.1) return `"${numberText(next)}"`;
      if (roll < 0.12) return '""';
      return numberText(next);
    });
    lines.push(cells.join(','));
    if (next() < 0.01) lines.push('');
  }
  const path = await file('mixed.csv', `${lines.join('\r\n')}\r\n`);
  const expected = await viaCsvDataset(path, names);

  const whole = await readCsvMatrix(path);
  assert.deepEqual(whole.columns, names);
  assert.equal(whole.rows, 3000);
  assertSameFloats(whole.data, expected, 'readCsvMatrix');

  const batches = await csvMatrixBatches(path, { batchRows: 7 }).toArray();
  assert.deepEqual(
    batches.map((batch) => batch.rows),
    [...Array<number>(428).fill(7), 4],
  );
  assertSameFloats(concat(batches), expected, 'batches of 7');

  const selected = await readCsvMatrix(path, { columns: ['e', 'a'] });
  assert.deepEqual(selected.columns, ['e', 'a']);
  assertSameFloats(selected.data, await viaCsvDataset(path, ['e', 'a']), 'columns e, a');
});

test('numbers are exactly Math.fround(Number(text)) on 100k generated strings', async () => {
  const next = mulberry32(2024);
  const texts = Array.from({ length: 100_000 }, () => numberText(next));
  const expected = texts.map((text) => Math.fround(Number(text)));

  // The fast path alone, where it takes the text: it must take most, and compute the double
  // Number() gives (a float32 would hide a last-bit error of the double almost always).
  const out = new Float64Array(1);
  let fast = 0;
  for (const text of texts) {
    const bytes = Buffer.from(text);
    if (scanNumber({ bytes, out, index: 0 }, 0, bytes.length) !== bytes.length) continue;
    fast++;
    if (!Object.is(out[0], Number(text)))
      assert.fail(`fast path: ${JSON.stringify(text)}: got ${out[0]}, expected ${Number(text)}`);
  }
  assert.ok(fast > 50_000, `the fast path took only ${fast} of 100000`);
  for (const text of ['1e', '.', '-', '1.2.3', '1e+', '1234567890123456']) {
    assert.notEqual(scanNumber({ bytes: Buffer.from(text), out, index: 0 }, 0, text.length), text.length, text);
  }
  assert.equal(scanNumber({ bytes: Buffer.from('1e'), out, index: 0 }, 0, 2), NOT_FAST);

  // The whole reader, fallback included.
  const rows: string[] = ['p,q,r,s'];
  for (let i = 0; i < texts.length; i += 4) rows.push(texts.slice(i, i + 4).join(','));
  const path = await file('numbers.csv', `${rows.join('\n')}\n`);
  const matrix = await readCsvMatrix(path);
  assert.equal(matrix.rows, 25_000);
  assertSameFloats(matrix.data, expected, 'readCsvMatrix');
});

test('a final line without a newline, lone CR line ends, another delimiter and skipped text columns', async () => {
  const semicolons = await file('semi.csv', 'id;name;score\r1;"x; y";0.5\r2;b;\r3;c;-1e3');
  const matrix = await readCsvMatrix(semicolons, { delimiter: ';', columns: ['score', 'id'] });
  assert.equal(matrix.rows, 3);
  assertSameFloats(matrix.data, [0.5, 1, Number.NaN, 2, -1000, 3], 'semicolon file');
  // Composes with the Dataset operators.
  const firstTwo = await csvMatrixBatches(semicolons, { delimiter: ';', columns: ['id'], batchRows: 1 })
    .take(2)
    .toArray();
  assert.deepEqual(
    firstTwo.map((batch) => Array.from(batch.data)),
    [[1], [2]],
  );
});

test('every bad input is a BAD_REQUEST naming the file, the line and the column, as csvDataset says it', async () => {
  await assert.rejects(readCsvMatrix(join(dir, 'absent.csv')), isError('NOT_FOUND', /absent\.csv: no such file/));
  const empty = await file('empty.csv', '\n\n');
  await assert.rejects(
    readCsvMatrix(empty),
    isError('BAD_REQUEST', /empty\.csv: the file is empty \(expected a header row\)/),
  );
  const headerOnly = await file('header-only.csv', 'a,b\n');
  await assert.rejects(
    readCsvMatrix(headerOnly),
    isError('BAD_REQUEST', /header-only\.csv: the dataset is empty \(no data rows\)/),
  );
  const twice = await file('twice.csv', 'a,b,a\n1,2,3\n');
  await assert.rejects(readCsvMatrix(twice), isError('BAD_REQUEST', /twice\.csv: the header names column "a" twice/));

  const schema: ColumnSchema = { a: 'number', b: 'number', c: 'number', d: 'number', e: 'number' };
  for (const [name, text, pattern] of [
    ['long.csv', 'a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5,6\n', /long\.csv: line 3 has 6 fields, the header has 5$/],
    ['short.csv', 'a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n1,2\n', /short\.csv: line 4 has 2 fields, the header has 5$/],
    [
      'text.csv',
      'a,b,c,d,e\r\n1,2,3,4,5\r\n\r\n1,abc,3,4,5\r\n',
      /text\.csv: line 4, column 2 "b": expected a number, got "abc"$/,
    ],
    ['quoted.csv', 'a,b,c,d,e\n1,2,3,4,"five"\n', /quoted\.csv: line 2, column 5 "e": expected a number, got "five"$/],
    ['ragged-text.csv', 'a,b,c,d,e\n1,x,3\n', /ragged-text\.csv: line 2 has 3 fields, the header has 5$/],
  ] as const) {
    const path = await file(name, text);
    const message = await messageOf(readCsvMatrix(path));
    assert.match(message, pattern);
    // The same words as the generic reader.
    assert.equal(message, await messageOf(csvDataset(path, { schema }).toArray()));
  }

  // The header's quoted name spans lines 1-2, a blank line and CRLF rows follow: the bad record
  // is on line 6 whatever the error, and both readers say so in the same words.
  const head = 'a,"b\nbee",c\r\n1,2,3\r\n\r\n4,5,6\r\n';
  for (const [name, last, pattern] of [
    ['lines-value.csv', '7,x,9\n', /lines-value\.csv: line 6, column 2 "b\\nbee": expected a number, got "x"$/],
    ['lines-ragged.csv', '7,8\n', /lines-ragged\.csv: line 6 has 2 fields, the header has 3$/],
    ['lines-quote.csv', '7,8,"9"!\n', /lines-quote\.csv: line 6, column 3 "c": unexpected "!" after a closing quote/],
  ] as const) {
    const path = await file(name, head + last);
    const message = await messageOf(readCsvMatrix(path));
    assert.match(message, pattern);
    assert.equal(
      message,
      await messageOf(csvDataset(path, { schema: { a: 'number', 'b\nbee': 'number', c: 'number' } }).toArray()),
    );
  }
  // Beyond float32 (what training reads) is refused where it stands, not stored as Infinity.
  for (const text of ['1e39', '"-4e38"', '340282356779733661637539395458142568448']) {
    await assert.rejects(
      readCsvMatrix(await file('huge.csv', `a,b\n1,2\n3,${text}\n`)),
      isError('BAD_REQUEST', /huge\.csv: line 3, column 2 "b": .* is beyond the range of a 32-bit float/),
    );
  }
  const edge = await readCsvMatrix(await file('edge.csv', 'a\n3.4e38\n1e-50\nInfinity\n'));
  assert.deepEqual(Array.from(edge.data), [Math.fround(3.4e38), 0, Number.POSITIVE_INFINITY]);
  await assert.rejects(
    readCsvMatrix(await file('lines-open.csv', `${head}7,8,"9\n`)),
    isError('BAD_REQUEST', /lines-open\.csv: line 6, column 3 "c": a quoted field is not closed on its line/),
  );

  const multiline = await file('multiline.csv', 'a,b\n1,2\n3,"4\n5"\n');
  await assert.rejects(
    readCsvMatrix(multiline),
    isError('BAD_REQUEST', /multiline\.csv: line 3, column 2 "b": a quoted field is not closed on its line/),
  );
  const afterQuote = await file('after-quote.csv', 'a,b\n"1"x,2\n');
  await assert.rejects(
    readCsvMatrix(afterQuote),
    isError('BAD_REQUEST', /after-quote\.csv: line 2, column 1 "a": unexpected "x" after a closing quote/),
  );
  const infinite = await file('inf.csv', 'a\n1\ninf\n');
  await assert.rejects(
    readCsvMatrix(infinite),
    isError('BAD_REQUEST', /line 3, column 1 "a": expected a number, got "inf"/),
  );

  const ok = await file('ok.csv', 'a,b\n1,2\n');
  await assert.rejects(
    readCsvMatrix(ok, { columns: ['z', 'a', 'y'] }),
    isError('BAD_REQUEST', /ok\.csv: columns "z", "y" requested but missing from the header \(columns: a, b\)/),
  );
  assert.throws(
    () => csvMatrixBatches(ok, { batchRows: 0 }),
    isError('BAD_REQUEST', /batchRows: expected an integer >= 1, got 0/),
  );
  assert.throws(
    () => csvMatrixBatches(ok, { workers: 1.5 }),
    isError('BAD_REQUEST', /workers: expected an integer >= 1/),
  );
  assert.throws(
    () => csvMatrixBatches(ok, { delimiter: '"' }),
    isError('BAD_REQUEST', /delimiter: expected one ASCII character/),
  );
  assert.throws(
    () => csvMatrixBatches(ok, { columns: ['a', 'a'] }),
    isError('BAD_REQUEST', /columns: "a" is named twice/),
  );
});

test('workers give the same batches as the calling thread, quotes or not, and the same errors', async () => {
  const plain = await file('plain.csv', numericCsv({ rows: 6000, columns: 8, seed: 3, newline: '\r\n' }));
  const options = { batchRows: 1000, workerRangeBytes: 16_384 };
  const single = await csvMatrixBatches(plain, options).toArray();
  // Every range on the workers; then the calling thread first, handing over when they are up
  // (the slow consumer lets them start mid-file).
  const parallel = await csvMatrixBatches(plain, { ...options, workers: 2, parseWhileStarting: false }).toArray();
  assert.deepEqual(
    parallel.map((batch) => batch.rows),
    single.map((batch) => batch.rows),
  );
  assertSameFloats(concat(parallel), concat(single), 'workers 2');
  const handedOver: FloatBatch[] = [];
  for await (const batch of csvMatrixBatches(plain, { ...options, workers: 2 })) {
    handedOver.push(batch);
    await sleep(20);
  }
  assertSameFloats(concat(handedOver), concat(single), 'workers 2 after the calling thread');
  assertSameFloats(concat(single), await viaCsvDataset(plain, single[0]?.columns ?? []), 'csvDataset');

  // Quotes from the middle on: the reader goes on from there on the calling thread.
  const lines = numericCsv({ rows: 6000, columns: 8, seed: 4, newline: '\n' }).split('\n');
  const quoted = lines.map((line, index) =>
    index > 3000 && index % 7 === 0 ? line.replace(/^([^,]*)/, '"$1"') : line,
  );
  const quotedPath = await file('quoted-late.csv', quoted.join('\n'));
  assertSameFloats(
    (await readCsvMatrix(quotedPath, { workers: 2, workerRangeBytes: 16_384, parseWhileStarting: false })).data,
    (await readCsvMatrix(quotedPath)).data,
    'quoted, workers 2',
  );

  // An error far into the file names the same line from a worker: the header's quoted name spans
  // two lines and blank lines come before the bad one, all counted.
  const clean = numericCsv({ rows: 6000, columns: 8, seed: 4, newline: '\n' }).split('\n');
  clean[0] = clean[0]!.replace('x0', '"x\n0"');
  clean[4500] = clean[4500]!.replace(/,[^,]*$/, ',oops');
  clean.splice(2000, 0, '', '\r');
  const broken = await file('broken.csv', clean.join('\n'));
  const expected = await messageOf(readCsvMatrix(broken));
  assert.match(expected, /broken\.csv: line 4504, column 8 "x7": expected a number, got "oops"/);
  const inWorkers = { workers: 2, workerRangeBytes: 16_384, parseWhileStarting: false };
  assert.equal(await messageOf(readCsvMatrix(broken, inWorkers)), expected);
  assert.equal(
    await messageOf(csvDataset(broken).toArray()),
    expected.replace('a number', 'a number (inferred from the first 1000 rows)'),
  );
});

test('worker threads end when the iteration completes, is left early or fails', async () => {
  const path = await file('threads.csv', numericCsv({ rows: 8000, columns: 8, seed: 5, newline: '\n' }));
  const options = { workers: 2, batchRows: 100, workerRangeBytes: 16_384, parseWhileStarting: false };
  await threadsEnded();

  const iterator = csvMatrixBatches(path, options)[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.rows, 100);
  assert.ok(osThreads() > BASELINE_THREADS, 'the workers should be running mid-iteration');
  await iterator.return?.();
  await threadsEnded();

  for await (const batch of csvMatrixBatches(path, options)) if (batch.rows > 0) break;
  await threadsEnded();

  assert.equal((await readCsvMatrix(path, options)).rows, 8000);
  await threadsEnded();

  const broken = await file('threads-broken.csv', `${readFileSync(path, 'utf8')}1,2\n`);
  await assert.rejects(
    readCsvMatrix(broken, options),
    isError('BAD_REQUEST', /line 8002 has 2 fields, the header has 8/),
  );
  await threadsEnded();
});

test('the worker pool settles every request: replies still coming after close, and workers gone before replying', async () => {
  const text = numericCsv({ rows: 2000, columns: 8, seed: 6, newline: '\n' });
  const path = await file('pool.csv', text);
  const layout = { delimiter: 0x2c, fieldCount: 8, targets: Int32Array.from({ length: 8 }, (_, i) => i), width: 8 };
  const dataStart = text.indexOf('\n') + 1;
  const ranges = Array.from({ length: 8 }, (_, i) => ({
    start: dataStart + i * 1024,
    end: dataStart + (i + 1) * 1024,
    aligned: i === 0,
  }));
  await threadsEnded();

  // One worker given many small ranges: when the first reply is in, the others are queued or on
  // their way, and arrive after close(). The pool alone keeps the event loop alive here, up to
  // the workers' exit, which close() resolves with.
  const pool = new CsvMatrixPool({ size: 1, data: { path, layout } });
  await waitFor('the csv worker to start', () => pool.ready);
  const replies = ranges.map((range) => pool.parse(range));
  for (const reply of replies) reply.catch(() => undefined);
  assert.equal((await replies[0])?.kind, 'rows');
  await pool.close();
  for (const [index, outcome] of (await Promise.allSettled(replies)).entries()) {
    if (outcome.status === 'rejected') {
      const { start, end } = ranges[index]!;
      assert.ok(
        isError(
          'INTERNAL',
          new RegExp(`pool\\.csv: bytes \\[${start}, ${end}\\): csv worker 0 was terminated`),
        )(outcome.reason),
        String(outcome.reason),
      );
    }
  }
  await assert.rejects(
    pool.parse(ranges[0]!),
    isError('INTERNAL', /pool\.csv: bytes \[\d+, \d+\): the csv workers are closed/),
  );
  await threadsEnded();

  // Closed while starting: no worker ever replies, and each request is rejected naming its range.
  const early = new CsvMatrixPool({ size: 2, data: { path, layout } });
  const unanswered = ranges.slice(0, 3).map((range) => early.parse(range));
  for (const reply of unanswered) reply.catch(() => undefined);
  await early.close();
  for (const [index, reply] of unanswered.entries()) {
    const { start, end } = ranges[index]!;
    await assert.rejects(
      reply,
      isError(
        'INTERNAL',
        new RegExp(
          `bytes \\[${start}, ${end}\\): csv worker \\d was terminated \\(the reader was closed\\) before replying`,
        ),
      ),
    );
  }
  await threadsEnded();
});
