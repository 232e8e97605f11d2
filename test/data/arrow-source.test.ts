/** Arrow IPC files and streams as datasets: the bundled flights file, value conversions, errors. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  Bool,
  DateDay,
  Dictionary,
  Float64,
  Int32,
  Int64,
  List,
  Field,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { arrowDataset } from '../../src/data/arrow-source.ts';
import { StratumError } from '../../src/errors/index.ts';

const FLIGHTS = 'node_modules/vega-datasets/data/flights-200k.arrow';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stratum-arrow-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function isError(code: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

const AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** A table of two record batches covering every supported type, with nulls. */
function typedTable(): Table {
  const columns = {
    id: vectorFromArray([1, 2, 3, 4], new Int32()),
    big: vectorFromArray([0n, null, 20_000_000_000n, null], new Int64()),
    x: vectorFromArray([0.5, null, 0.5, null], new Float64()),
    label: vectorFromArray(['a', null, 'a', null], new Utf8()),
    flag: vectorFromArray([true, null, true, null], new Bool()),
    day: vectorFromArray([new Date(Date.UTC(2024, 0, 2)), null, new Date(Date.UTC(2024, 0, 2)), null], new DateDay()),
    ms: vectorFromArray([AT, null, AT, null], new TimestampMillisecond()),
    us: vectorFromArray([AT, null, AT, null], new TimestampMicrosecond()),
    ns: vectorFromArray([AT, null, AT, null], new TimestampNanosecond()),
    // One dictionary for both batches: the file format allows no replacement dictionaries.
    city: vectorFromArray(['Oslo', 'Lima', 'Oslo', 'Lima'], new Dictionary(new Utf8(), new Int32())),
  };
  const part = (start: number): Table =>
    new Table(
      Object.fromEntries(Object.entries(columns).map(([name, vector]) => [name, vector.slice(start, start + 2)])),
    );
  return part(0).concat(part(2));
}

test('flights-200k.arrow: rows equal to apache-arrow read directly, all 200,000 of them', async () => {
  const reference = tableFromIPC(await readFile(FLIGHTS));
  const rows = await arrowDataset(FLIGHTS).take(3).toArray();
  assert.deepEqual(
    rows,
    [0, 1, 2].map((i) => reference.get(i)?.toJSON()),
  );
  assert.deepEqual(Object.keys(rows[0] ?? {}), ['delay', 'distance', 'time']);
  assert.equal(await arrowDataset(FLIGHTS).count(), 200_000);
});

test('a written file and stream: every supported type, nulls, dates and timestamps as epoch ms', async () => {
  const table = typedTable();
  assert.equal(table.batches.length, 2);
  const expected = [
    { id: 1, big: 0, x: 0.5, label: 'a', flag: true, day: Date.UTC(2024, 0, 2), ms: AT, us: AT, ns: AT, city: 'Oslo' },
    { id: 2, big: null, x: null, label: null, flag: null, day: null, ms: null, us: null, ns: null, city: 'Lima' },
    {
      id: 3,
      big: 20_000_000_000,
      x: 0.5,
      label: 'a',
      flag: true,
      day: Date.UTC(2024, 0, 2),
      ms: AT,
      us: AT,
      ns: AT,
      city: 'Oslo',
    },
    { id: 4, big: null, x: null, label: null, flag: null, day: null, ms: null, us: null, ns: null, city: 'Lima' },
  ];
  for (const format of ['file', 'stream'] as const) {
    const path = join(dir, `typed.${format === 'file' ? 'arrow' : 'arrows'}`);
    await writeFile(path, tableToIPC(table, format));
    assert.deepEqual(await arrowDataset(path).toArray(), expected, format);
    assert.deepEqual(await arrowDataset(path).skip(2).take(1).toArray(), [expected[2]], format);
  }
});

test('refuses 64-bit integers beyond 2^53 and types with no plain value, naming the column', async () => {
  const huge = join(dir, 'huge.arrow');
  await writeFile(huge, tableToIPC(new Table({ n: vectorFromArray([1n, 2n ** 60n], new Int64()) }), 'file'));
  await assert.rejects(
    arrowDataset(huge).toArray(),
    isError('BAD_REQUEST', /huge\.arrow: column "n": integer 1152921504606846976 is beyond/),
  );
  const nested = join(dir, 'nested.arrow');
  const lists = vectorFromArray([[1], [2, 3]], new List(new Field('item', new Int32())));
  await writeFile(nested, tableToIPC(new Table({ pairs: lists }), 'file'));
  await assert.rejects(
    arrowDataset(nested).toArray(),
    isError('BAD_REQUEST', /nested\.arrow: column "pairs" has Arrow type List<Int32>/),
  );
});

test('errors name the file: missing, or not Arrow', async () => {
  await assert.rejects(
    arrowDataset(join(dir, 'missing.arrow')).toArray(),
    isError('NOT_FOUND', /missing\.arrow: no such file/),
  );
  const junk = join(dir, 'junk.arrow');
  await writeFile(junk, 'this is not arrow at all, just some text that goes on for a while');
  await assert.rejects(
    arrowDataset(junk).toArray(),
    isError('BAD_REQUEST', /junk\.arrow: not a readable Arrow IPC file or stream/),
  );
});
