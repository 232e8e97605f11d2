/**
 * DuckDB-backed datasets: Parquet files (the bundled 3M-row flights and small files written here),
 * SQL over CSV, the columnar readers, value conversions, and errors that name the source.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { datasetVersion } from '../../src/data/dataset-version.ts';
import { parquetColumns, parquetDataset, sqlColumns, sqlDataset } from '../../src/data/duckdb-source.ts';
import { numberColumn, stringColumn } from '../../src/data/table-row.ts';
import { StratumError } from '../../src/errors/index.ts';

const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet';

let dir = '';
let small = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-duckdb-'));
  small = join(dir, 'small.parquet');
  await duckdb(
    `COPY (
       SELECT * FROM (VALUES
         (1, 10000000000::BIGINT, 1.5::DOUBLE, 'a', true, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.678901', 12.34::DECIMAL(10,2)),
         (2, NULL, NULL, NULL, false, DATE '1969-12-31', TIMESTAMP '1969-12-31 23:59:59.999', -0.5::DECIMAL(10,2)),
         (3, -7::BIGINT, -2.25::DOUBLE, 'ç', NULL, NULL, NULL, NULL)
       ) AS t(id, big, x, label, flag, day, "at", price)
     ) TO '${small}' (FORMAT parquet)`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `sql` on DuckDB directly (the reference the sources are checked against). */
async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function isError(code: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

test('flights-3m.parquet: projected columns with take, values equal to DuckDB read directly', async () => {
  const rows = await parquetDataset(FLIGHTS, { columns: ['date', 'delay', 'origin'] })
    .take(5)
    .toArray();
  const expected = await duckdb(`SELECT epoch_ms(date) AS date, delay, origin FROM read_parquet('${FLIGHTS}') LIMIT 5`);
  assert.equal(rows.length, 5);
  assert.deepEqual(Object.keys(rows[0] ?? {}), ['date', 'delay', 'origin']);
  for (const [i, row] of rows.entries()) {
    assert.equal(typeof row.date, 'number');
    assert.equal(typeof row.delay, 'number');
    assert.equal(typeof row.origin, 'string');
    const reference = expected[i] as { date: bigint; delay: bigint; origin: string };
    assert.deepEqual(row, { date: Number(reference.date), delay: Number(reference.delay), origin: reference.origin });
  }
  // 2001-01-01 00:01 UTC, the first flight, as epoch milliseconds.
  assert.equal(rows[0]?.date, Date.UTC(2001, 0, 1, 0, 1));
});

test('a Parquet file written here: every supported type, nulls, and dates as epoch ms', async () => {
  const rows = await parquetDataset(small).toArray();
  assert.deepEqual(rows, [
    {
      id: 1,
      big: 10_000_000_000,
      x: 1.5,
      label: 'a',
      flag: true,
      day: Date.UTC(2024, 0, 2),
      at: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
      price: 12.34,
    },
    {
      id: 2,
      big: null,
      x: null,
      label: null,
      flag: false,
      day: Date.UTC(1969, 11, 31),
      at: Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      price: -0.5,
    },
    { id: 3, big: -7, x: -2.25, label: 'ç', flag: null, day: null, at: null, price: null },
  ]);
  // Each iteration opens the file afresh.
  assert.equal(await parquetDataset(small).count(), 3);
  assert.deepEqual(
    await parquetDataset(small, { columns: ['label', 'id'] })
      .take(1)
      .toArray(),
    [{ label: 'a', id: 1 }],
  );
});

test('columns: Float64Array for numbers and dates (NaN for null), arrays for strings and booleans', async () => {
  const table = await parquetColumns(small, { columns: ['id', 'big', 'label', 'flag', 'at'] });
  assert.equal(table.rowCount, 3);
  assert.deepEqual(table.types, { id: 'number', big: 'number', label: 'string', flag: 'boolean', at: 'date' });
  assert.ok(table.columns.id instanceof Float64Array);
  assert.deepEqual([...numberColumn(table, 'id')], [1, 2, 3]);
  assert.deepEqual([...numberColumn(table, 'big')], [10_000_000_000, Number.NaN, -7]);
  assert.deepEqual(stringColumn(table, 'label'), ['a', null, 'ç']);
  assert.deepEqual(table.columns.flag, [true, false, null]);
  assert.deepEqual(
    [...numberColumn(table, 'at')],
    [Date.UTC(2024, 0, 2, 3, 4, 5, 678), Date.UTC(1969, 11, 31, 23, 59, 59, 999), Number.NaN],
  );
  assert.throws(() => numberColumn(table, 'label'), isError('BAD_REQUEST', /column "label" holds string values/));
  assert.throws(() => stringColumn(table, 'nope'), isError('BAD_REQUEST', /no column "nope" \(columns: id, big/));

  const flights = await sqlColumns(`SELECT delay, distance FROM read_parquet('${FLIGHTS}') LIMIT 5000`);
  assert.equal(flights.rowCount, 5000);
  assert.equal(numberColumn(flights, 'delay').length, 5000);
  const reference = await duckdb(
    `SELECT sum(delay) AS total FROM (SELECT delay FROM read_parquet('${FLIGHTS}') LIMIT 5000)`,
  );
  assert.equal(
    numberColumn(flights, 'delay').reduce((sum, value) => sum + value, 0),
    Number((reference[0] as { total: bigint }).total),
  );

  const empty = await sqlColumns("SELECT 1::INTEGER AS a, 'x' AS b WHERE false");
  assert.deepEqual(empty, {
    rowCount: 0,
    types: { a: 'number', b: 'string' },
    columns: { a: new Float64Array(0), b: [] },
  });
});

test('SQL over a CSV file, with positional parameters and several statements', async () => {
  const csv = join(dir, 'people.csv');
  await writeFile(csv, 'name,age,joined\nann,31,2020-05-01\nbob,45,2019-01-15\ncid,27,2021-11-30\n');
  const older = sqlDataset(`SELECT name, age, joined FROM read_csv('${csv}') WHERE age > $1 ORDER BY age`, {
    params: [30],
  });
  assert.deepEqual(await older.toArray(), [
    { name: 'ann', age: 31, joined: Date.UTC(2020, 4, 1) },
    { name: 'bob', age: 45, joined: Date.UTC(2019, 0, 15) },
  ]);
  const staged = sqlDataset(
    `CREATE TABLE people AS SELECT * FROM read_csv('${csv}'); SELECT count(*) AS n, max(age) AS oldest FROM people`,
  );
  assert.deepEqual(await staged.toArray(), [{ n: 3, oldest: 45 }]);
});

test('streams in chunks: a large result is read lazily and left early by take', async () => {
  const many = sqlDataset('SELECT range AS i, range * 0.5 AS half FROM range(100000)');
  assert.deepEqual(await many.skip(4096).take(2).toArray(), [
    { i: 4096, half: 2048 },
    { i: 4097, half: 2048.5 },
  ]);
  let count = 0;
  for await (const row of many) {
    if (row.i !== count) assert.fail(`row ${count} out of order: ${String(row.i)}`);
    if (++count === 10_000) break;
  }
  assert.equal(count, 10_000);
});

test('refuses integers beyond 2^53 and types with no plain value, naming the column', async () => {
  await assert.rejects(
    sqlDataset('SELECT 9007199254740993::BIGINT AS huge').toArray(),
    isError('BAD_REQUEST', /column "huge": integer 9007199254740993 is beyond/),
  );
  await assert.rejects(
    sqlDataset('SELECT 1 AS ok, [1, 2] AS pair').toArray(),
    isError('BAD_REQUEST', /column "pair" has type INTEGER\[\], which has no plain JS value/, /CAST/),
  );
  assert.deepEqual(await sqlDataset('SELECT 9007199254740991::BIGINT AS edge').toArray(), [
    { edge: Number.MAX_SAFE_INTEGER },
  ]);
});

test("errors name the file or the SQL and give DuckDB's reason", async () => {
  await assert.rejects(
    parquetDataset(join(dir, 'missing.parquet')).toArray(),
    isError('NOT_FOUND', /missing\.parquet: no such file/),
  );
  await assert.rejects(
    parquetDataset(small, { columns: ['id', 'nope'] }).toArray(),
    isError('BAD_REQUEST', /small\.parquet: DuckDB cannot read it: Binder Error: .*"nope"/),
  );
  await assert.rejects(
    sqlDataset('SELEC 1').toArray(),
    isError('BAD_REQUEST', /SQL "SELEC 1": DuckDB cannot read it: .*syntax error at or near "SELEC"/),
  );
  await assert.rejects(
    sqlDataset(`SELECT * FROM read_csv('${join(dir, 'absent.csv')}')`).toArray(),
    isError('BAD_REQUEST', /absent\.csv/, /IO Error/),
  );
  const notParquet = join(dir, 'not.parquet');
  await writeFile(notParquet, 'hello');
  await assert.rejects(
    parquetDataset(notParquet).toArray(),
    isError('BAD_REQUEST', /not\.parquet: DuckDB cannot read it/),
  );
  assert.throws(() => parquetDataset(small, { columns: [] }), isError('BAD_REQUEST', /columns: expected at least one/));
  assert.throws(() => sqlDataset('  '), isError('BAD_REQUEST', /the SQL is empty/));
});

test('a Parquet file is versioned by its bytes like any other data file', async () => {
  const version = await datasetVersion(small);
  const digest = createHash('sha256')
    .update(await readFile(small))
    .digest('hex');
  assert.equal(version.digest, `sha256:${digest}`);
});
