/**
 * PostgreSQL queries as datasets, against the real server: value conversions, batching through the
 * cursor, the connection released on early exit and on error, and errors that name the query.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { postgresDataset } from '../../src/data/postgres-source.ts';
import { parseTimestamp } from '../../src/data/postgres-values.ts';
import { StratumError } from '../../src/errors/index.ts';
import { waitFor } from '../helpers/wait-for.ts';

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `stratum_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const url = `${POSTGRES_URL}?schema=${schema}`;
const admin = new pg.Client({ connectionString: POSTGRES_URL });

before(async () => {
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`
    CREATE TABLE ${schema}.readings (
      id int4, small int2, big int8, ratio float8, price numeric(12, 2), name text, code varchar(8),
      ok boolean, day date, at timestamp, at_tz timestamptz
    )`);
  await admin.query(`
    INSERT INTO ${schema}.readings VALUES
      (1, 7, 10000000000, 0.25, 12.34, 'ann', 'A1', true, '2024-01-02', '2024-01-02 03:04:05.678901', '2024-01-02 03:04:05.678+05:30'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, -7, -9007199254740991, 'NaN', -0.5, 'çé', '', false, '1969-12-31', '1969-12-31 23:59:59.999', 'infinity')`);
});
after(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

function isError(code: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

/** Waits until the server no longer has backend `pid`: its connection was closed. */
async function assertDisconnected(pid: number): Promise<void> {
  await waitFor(`backend ${pid} to disconnect`, async () => {
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]);
    return (rows[0] as { n: number }).n === 0;
  });
}

test('rows of a table: numbers, text, booleans, nulls; dates and timestamps as epoch ms (UTC)', async () => {
  const rows = await postgresDataset({ url, sql: 'SELECT * FROM readings ORDER BY id' }).toArray();
  assert.deepEqual(rows, [
    {
      id: 1,
      small: 7,
      big: 10_000_000_000,
      ratio: 0.25,
      price: 12.34,
      name: 'ann',
      code: 'A1',
      ok: true,
      day: Date.UTC(2024, 0, 2),
      at: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
      at_tz: Date.UTC(2024, 0, 1, 21, 34, 5, 678),
    },
    {
      id: 2,
      small: null,
      big: null,
      ratio: null,
      price: null,
      name: null,
      code: null,
      ok: null,
      day: null,
      at: null,
      at_tz: null,
    },
    {
      id: 3,
      small: -7,
      big: -Number.MAX_SAFE_INTEGER,
      ratio: Number.NaN,
      price: -0.5,
      name: 'çé',
      code: '',
      ok: false,
      day: Date.UTC(1969, 11, 31),
      at: Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      at_tz: Number.POSITIVE_INFINITY,
    },
  ]);
});

test('timestamps in ISO style: offsets, fractions, BC and years past 9999', () => {
  const origin = { label: 'q', column: 'c' };
  assert.equal(parseTimestamp('2024-01-02 03:04:05+05:30', origin), Date.UTC(2024, 0, 1, 21, 34, 5));
  assert.equal(parseTimestamp('2024-01-02 03:04:05.1-01', origin), Date.UTC(2024, 0, 2, 4, 4, 5, 100));
  assert.equal(parseTimestamp('12024-01-02', origin), Date.UTC(12024, 0, 2));
  const bc = new Date(0);
  bc.setUTCFullYear(-43, 2, 15);
  assert.equal(parseTimestamp('0044-03-15 BC', origin), bc.getTime());
  assert.equal(parseTimestamp('0099-01-01', origin), new Date('0099-01-01T00:00:00Z').getTime());
  assert.equal(parseTimestamp('-infinity', origin), Number.NEGATIVE_INFINITY);
  assert.throws(
    () => parseTimestamp('Jan 2 2024', origin),
    isError('BAD_REQUEST', /q: column "c": cannot read "Jan 2 2024"/),
  );
});

test('streams through the cursor in batches, in order, with parameters; each iteration queries afresh', async () => {
  const numbers = postgresDataset({
    url,
    sql: 'SELECT i, i * $2::float8 AS scaled FROM generate_series(1, $1::int) AS i ORDER BY i',
    params: [1000, 0.5],
    batchRows: 7,
  });
  const rows = await numbers.toArray();
  assert.equal(rows.length, 1000);
  assert.ok(rows.every((row, index) => row.i === index + 1 && row.scaled === (index + 1) * 0.5));
  assert.equal(await numbers.count(), 1000);
  assert.deepEqual(await postgresDataset({ url, sql: 'SELECT 1 AS one WHERE false' }).toArray(), []);
});

test('leaving early (take, break) closes the connection', async () => {
  const endless = postgresDataset({
    url,
    sql: 'SELECT pg_backend_pid() AS pid, i FROM generate_series(1, 1000000) AS i',
    batchRows: 10,
  });
  const taken = await endless.take(3).toArray();
  assert.deepEqual(
    taken.map((row) => row.i),
    [1, 2, 3],
  );
  await assertDisconnected(taken[0]?.pid as number);

  let pid = 0;
  for await (const row of endless) {
    pid = row.pid as number;
    if ((row.i as number) >= 25) break;
  }
  await assertDisconnected(pid);
});

test("an error names the query and PostgreSQL's reason, and closes the connection", async () => {
  await assert.rejects(
    postgresDataset({ url, sql: 'SELECT * FROM no_such_table' }).toArray(),
    isError(
      'BAD_REQUEST',
      /PostgreSQL query "SELECT \* FROM no_such_table" on postgres:\/\/127\.0\.0\.1:5432\/test.*: relation "no_such_table" does not exist \(SQLSTATE 42P01\)/,
    ),
  );
  await assert.rejects(
    postgresDataset({ url, sql: 'SELEC 1' }).toArray(),
    isError('BAD_REQUEST', /syntax error at or near "SELEC"/),
  );
  // Fails mid-stream, after rows have been yielded.
  const seen: number[] = [];
  await assert.rejects(
    postgresDataset({
      url,
      sql: 'SELECT pg_backend_pid() AS pid, 10 / (5 - i) AS q FROM generate_series(1, 10) AS i',
      batchRows: 2,
    }).forEach((row) => {
      seen.push(row.pid as number);
    }),
    isError('BAD_REQUEST', /division by zero \(SQLSTATE 22012\)/),
  );
  assert.equal(seen.length, 4);
  await assertDisconnected(seen[0] as number);
});

test('refuses int8 beyond 2^53 and types with no plain value, naming the column; checks options', async () => {
  await assert.rejects(
    postgresDataset({ url, sql: 'SELECT 9007199254740993::int8 AS huge' }).toArray(),
    isError('BAD_REQUEST', /column "huge": integer 9007199254740993 is beyond/),
  );
  await assert.rejects(
    postgresDataset({ url, sql: "SELECT '{1,2}'::int[] AS pair" }).toArray(),
    isError('BAD_REQUEST', /column "pair" has PostgreSQL type OID 1007/),
  );
  assert.throws(() => postgresDataset({ url, sql: 'SELECT 1', batchRows: 0 }), isError('BAD_REQUEST', /batchRows/));
  assert.throws(() => postgresDataset({ url, sql: ' ' }), isError('BAD_REQUEST', /the SQL is empty/));
});
