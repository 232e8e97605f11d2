/**
 * The dateparts, hash and median-impute transforms: calendar parts agree with JavaScript's UTC
 * Date on random timestamps from 1970 to 2100 (leap days, midnights and the last millisecond of a
 * day included), and onnxruntime agrees with transformBatch on thousands of rows — bit for bit,
 * cyclical sin/cos included (a shared float32 table), at batch 1 and batch > 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { StratumError } from '../../src/errors/index.ts';
import { datePartsOf } from '../../src/features/date-parts.ts';
import { exportFeaturesModel } from '../../src/features/export-onnx.ts';
import type { FeatureSpecInput } from '../../src/features/feature-spec.ts';
import { parseFeatureSpec } from '../../src/features/feature-spec.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import { featureNamesOf, parseFittedFeatures } from '../../src/features/fitted-features.ts';
import { murmurHash3 } from '../../src/features/text-hash.ts';
import { transformBatch, transformRow } from '../../src/features/transform.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { runFeatures } from './run-features.ts';

const TOLERANCE = 1e-5;
const START = Date.UTC(1970, 0, 1);
const END = Date.UTC(2100, 11, 31, 23, 59, 59, 999);
const SPECIAL = [
  Date.UTC(1970, 0, 1),
  Date.UTC(1972, 1, 29),
  Date.UTC(2000, 1, 29, 12),
  Date.UTC(2000, 2, 1),
  Date.UTC(2024, 1, 29, 23, 59, 59, 999),
  Date.UTC(2024, 11, 31, 23, 59, 59, 999),
  Date.UTC(2096, 1, 29),
  Date.UTC(2100, 1, 28, 23, 59),
  Date.UTC(2100, 2, 1),
  Date.UTC(2038, 0, 19, 3, 14, 8),
  Date.UTC(1969, 11, 31, 23, 59, 59, 999),
  Date.UTC(1900, 1, 28),
  Date.UTC(1600, 1, 29),
];

/** Random timestamps: half anywhere in 1970–2100, a quarter exact midnights, a quarter a millisecond before one. */
function timestamps(options: { count: number; seed: number }): number[] {
  const random = mulberry32(options.seed);
  const out = [...SPECIAL];
  while (out.length < options.count) {
    const t = START + Math.floor(random() * (END - START));
    const r = random();
    const midnight = Math.floor(t / 86_400_000) * 86_400_000;
    out.push(r < 0.5 ? t : r < 0.75 ? midnight : midnight - 1);
  }
  return out;
}

function expectedParts(ms: number): Record<string, number> {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return {
    year,
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    dayofweek: (date.getUTCDay() + 6) % 7,
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    dayofyear:
      Math.round((Date.UTC(year, date.getUTCMonth(), date.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
  };
}

test('datePartsOf matches the UTC calendar of Date on 20k timestamps, leap days and midnights included', () => {
  for (const ms of timestamps({ count: 20_000, seed: 1 })) {
    assert.deepEqual({ ...datePartsOf(ms) }, expectedParts(ms), new Date(ms).toISOString());
  }
  assert.deepEqual(
    { ...datePartsOf(Date.UTC(2024, 1, 29, 13, 5)) },
    { year: 2024, month: 2, day: 29, dayofweek: 3, hour: 13, minute: 5, dayofyear: 60 },
  );
  assert.equal(datePartsOf(Date.UTC(2024, 11, 31)).dayofyear, 366);
  assert.equal(datePartsOf(Date.UTC(2100, 11, 31)).dayofyear, 365, '2100 is not a leap year');
});

const SPEC: FeatureSpecInput = {
  transforms: [
    {
      column: 'when',
      transform: 'dateparts',
      parts: ['year', 'month', 'day', 'dayofweek', 'hour', 'minute', 'dayofyear'],
      missing: 'median',
    },
    {
      column: 'when',
      transform: 'dateparts',
      name: 'when_cyc',
      parts: ['month', 'dayofweek', 'hour', 'minute', 'year'],
      encoding: 'cyclical',
      missing: 'mean',
    },
    // the same DOUBLE column read by a float transform: the graph casts it once
    { column: 'when', transform: 'impute', name: 'when_raw', strategy: 'median', indicator: true },
    { column: 'city', transform: 'hash', buckets: 16 },
    { column: 'amount', transform: 'impute', strategy: 'median' },
  ],
};

function rows(options: { count: number; seed: number }): Record<string, unknown>[] {
  const random = mulberry32(options.seed + 100);
  return timestamps(options).map((ms, i) => {
    const r = random();
    const when = r < 0.03 ? null : r < 0.05 ? Number.NaN : r < 0.07 ? String(ms) : r < 0.1 ? new Date(ms) : ms;
    const c = random();
    const row: Record<string, unknown> = {
      when,
      city: c < 0.05 ? null : c < 0.08 ? '' : c < 0.2 ? `unseen-${i}` : `city-${Math.floor(random() * 30)}`,
    };
    if (random() > 0.1) row.amount = Math.exp(3 * random());
    return row;
  });
}

test('dateparts, hash and median impute: onnxruntime equals transformBatch on 5000 rows', async (t) => {
  const fitted = await fitFeatures(SPEC, rows({ count: 3000, seed: 2 }));
  assert.deepEqual(fitted.inputs, [
    { column: 'when', type: 'DOUBLE' },
    { column: 'city', type: 'STRING' },
    { column: 'amount', type: 'FLOAT' },
  ]);
  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  const evalRows = rows({ count: 5000, seed: 3 });
  const reference = transformBatch(fitted, evalRows);
  const onnx = await runFeatures({ session, fitted, rows: evalRows });
  const width = fitted.featureNames.length;
  assert.deepEqual(onnx.dims, [evalRows.length, width]);
  let offset = 0;
  for (const transform of fitted.transforms) {
    const names = featureNamesOf(transform);
    let maxDiff = 0;
    for (let row = 0; row < evalRows.length; row++) {
      for (let j = offset; j < offset + names.length; j++) {
        const a = reference.data[row * width + j] ?? Number.NaN;
        const b = onnx.data[row * width + j] ?? Number.NaN;
        assert.ok(Number.isFinite(a) && Number.isFinite(b), `${fitted.featureNames[j]} row ${row}: ${a} vs ${b}`);
        maxDiff = Math.max(maxDiff, Math.abs(a - b));
      }
    }
    t.diagnostic(`${transform.transform} ${transform.name}: ${names.length} feature(s), max |diff| ${maxDiff}`);
    assert.ok(maxDiff <= TOLERANCE, `${transform.name}: max |diff| ${maxDiff}`);
    assert.equal(maxDiff, 0, `${transform.name}: every transform here is computed identically`);
    offset += names.length;
  }
  // and the reference itself is right: parts of the rows with a timestamp equal Date's
  evalRows.slice(0, 500).forEach((row, i) => {
    const ms = typeof row.when === 'number' ? row.when : row.when instanceof Date ? row.when.getTime() : Number.NaN;
    if (Number.isNaN(ms)) return;
    const expected = expectedParts(ms);
    ['year', 'month', 'day', 'dayofweek', 'hour', 'minute', 'dayofyear'].forEach((part, j) => {
      assert.equal(reference.data[i * width + j], expected[part], `row ${i} ${part}`);
    });
  });
});

test('missing timestamps take the fitted median; missing categories hash to an all-zero row', async (t) => {
  const train = [
    { when: Date.UTC(2020, 0, 1), city: 'paris', amount: 1 },
    { when: Date.UTC(2021, 5, 15, 8, 30), city: 'lyon', amount: 2 },
    { when: Date.UTC(2022, 11, 31, 23), city: 'rome', amount: 10 },
    { when: null, city: null, amount: 100 },
  ];
  const fitted = await fitFeatures(SPEC, train);
  const dates = fitted.transforms[0];
  assert.ok(dates?.transform === 'dateparts');
  assert.equal(dates.fill, Date.UTC(2021, 5, 15, 8, 30), 'the median of three timestamps');
  const amount = fitted.transforms[4];
  assert.ok(amount?.transform === 'impute');
  assert.equal(amount.fill, 2, 'the lower median of 1, 2, 10, 100');

  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  const evalRows = [{ when: undefined, city: '' }, { city: 'atlantis', when: Date.UTC(2024, 1, 29) }, {}];
  const onnx = await runFeatures({ session, fitted, rows: evalRows });
  const reference = transformBatch(fitted, evalRows);
  assert.deepEqual(Array.from(onnx.data), Array.from(reference.data));
  const width = fitted.featureNames.length;
  const at = (row: number, name: string): number | undefined =>
    reference.data[row * width + fitted.featureNames.indexOf(name)];
  assert.equal(at(0, 'when_year'), 2021);
  assert.equal(at(0, 'when_month'), 6);
  assert.equal(at(0, 'when_hour'), 8);
  assert.equal(at(0, 'when_raw_missing'), 1);
  assert.equal(at(0, 'amount'), 2);
  const hashed = (row: number): number[] =>
    Array.from({ length: 16 }, (_, i) => at(row, `city_hash${i}`) ?? Number.NaN);
  assert.deepEqual(hashed(0), new Array(16).fill(0), "'' hashes to no bucket");
  assert.deepEqual(hashed(2), new Array(16).fill(0), 'an absent column hashes to no bucket');
  const expected = new Array(16).fill(0);
  expected[murmurHash3('atlantis') % 16] = 1;
  assert.deepEqual(hashed(1), expected, 'an unseen value still gets its bucket');
  assert.equal(at(1, 'when_day'), 29);
  assert.equal(at(1, 'when_dayofyear'), 60);
});

test('cyclical encoding puts December next to January and Sunday next to Monday', async () => {
  const fitted = await fitFeatures(
    { transforms: [{ column: 't', transform: 'dateparts', parts: ['month', 'dayofweek'], encoding: 'cyclical' }] },
    [{ t: 0 }],
  );
  assert.deepEqual(fitted.featureNames, ['t_month_sin', 't_month_cos', 't_dayofweek_sin', 't_dayofweek_cos']);
  const jan = transformRow(fitted, { t: Date.UTC(2024, 0, 1) }); // a Monday
  const dec = transformRow(fitted, { t: Date.UTC(2023, 11, 31) }); // a Sunday
  const distance = (a: Float32Array, b: Float32Array, from: number): number =>
    Math.hypot((a[from] ?? 0) - (b[from] ?? 0), (a[from + 1] ?? 0) - (b[from + 1] ?? 0));
  assert.ok(Math.abs(distance(jan, dec, 0) - 2 * Math.sin(Math.PI / 12)) < 1e-6);
  assert.ok(Math.abs(distance(jan, dec, 2) - 2 * Math.sin(Math.PI / 7)) < 1e-6);
  assert.equal(jan[0], 0);
  assert.equal(jan[1], 1);
});

test('median impute on 50k skewed values is within 1 % rank of the exact median', async () => {
  const random = mulberry32(9);
  const values = Array.from({ length: 50_000 }, () => Math.fround(Math.exp(4 * random() ** 3)));
  const fitted = await fitFeatures(
    { transforms: [{ column: 'x', transform: 'impute', strategy: 'median' }] },
    values.map((x) => ({ x })),
  );
  const fill = fitted.transforms[0]?.transform === 'impute' ? fitted.transforms[0].fill : Number.NaN;
  const below = values.filter((v) => v < fill).length / values.length;
  assert.ok(Math.abs(below - 0.5) <= 0.01, `rank of the fitted median: ${below}`);
});

test('a JSON round trip keeps features and model bytes identical', async () => {
  const fitted = await fitFeatures(SPEC, rows({ count: 1000, seed: 4 }));
  const restored = parseFittedFeatures(JSON.parse(JSON.stringify(fitted)));
  assert.deepEqual(restored, fitted);
  const evalRows = rows({ count: 300, seed: 5 });
  assert.deepEqual(transformBatch(restored, evalRows).data, transformBatch(fitted, evalRows).data);
  assert.deepEqual(exportFeaturesModel(restored), exportFeaturesModel(fitted));
});

test('batch 1 equals one large batch for dateparts and hash', async (t) => {
  const fitted = await fitFeatures(SPEC, rows({ count: 500, seed: 6 }));
  const session = await ort.InferenceSession.create(exportFeaturesModel(fitted));
  t.after(() => session.release());
  const evalRows = rows({ count: 40, seed: 7 });
  const batch = await runFeatures({ session, fitted, rows: evalRows });
  const width = fitted.featureNames.length;
  for (const [i, row] of evalRows.entries()) {
    const single = await runFeatures({ session, fitted, rows: [row] });
    assert.deepEqual(Array.from(single.data), Array.from(batch.data.subarray(i * width, (i + 1) * width)));
  }
});

function badRequest(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof StratumError, `expected a StratumError, got ${String(error)}`);
    assert.equal(error.code, 'BAD_REQUEST');
    assert.match(error.message, pattern);
    return true;
  };
}

test('the spec stays strict: repeated or unknown parts, unknown keys, bad ranges and type clashes', async () => {
  const spec = (transform: Record<string, unknown>): unknown => ({ transforms: [transform] });
  assert.throws(
    () => parseFeatureSpec(spec({ column: 't', transform: 'dateparts', parts: ['hour', 'hour'] })),
    badRequest(/transforms\[0\]\.parts: must not repeat a part/),
  );
  assert.throws(
    () => parseFeatureSpec(spec({ column: 't', transform: 'dateparts', parts: ['second'] })),
    badRequest(/transforms\[0\]\.parts\[0\]/),
  );
  assert.throws(
    () => parseFeatureSpec(spec({ column: 't', transform: 'dateparts', encoding: 'sine' })),
    badRequest(/transforms\[0\]\.encoding/),
  );
  assert.throws(
    () => parseFeatureSpec(spec({ column: 'c', transform: 'hash', signed: true })),
    badRequest(/transforms\[0\].*signed/),
  );
  assert.throws(
    () => parseFeatureSpec(spec({ column: 'c', transform: 'hash', buckets: 1 })),
    badRequest(/transforms\[0\]\.buckets/),
  );
  assert.throws(
    () => parseFeatureSpec(spec({ column: 'c', transform: 'impute', strategy: 'mode' })),
    badRequest(/transforms\[0\]\.strategy/),
  );
  assert.throws(
    () =>
      parseFeatureSpec({
        transforms: [
          { column: 'c', transform: 'hash' },
          { column: 'c', transform: 'dateparts' },
        ],
      }),
    badRequest(/transforms\[1\]\.column: column "c" is read as a number here but as a string by transforms\[0\]/),
  );
  await assert.rejects(
    fitFeatures(spec({ column: 't', transform: 'dateparts', missing: 'median' }), [{ t: null }]),
    badRequest(/transforms\[0\]\.column: column "t" has no non-missing values/),
  );
  await assert.rejects(
    fitFeatures(spec({ column: 't', transform: 'dateparts' }), [{ t: 0 }, { t: null }]),
    badRequest(/transforms\[0\]\.missing: column "t" has no value in training row 2/),
  );
  const constant = await fitFeatures(
    spec({
      column: 't',
      transform: 'dateparts',
      parts: ['year'],
      missing: 'constant',
      fillValue: Date.UTC(1999, 5, 1),
    }),
    [{ t: 0 }, { t: null }],
  );
  assert.deepEqual(Array.from(transformRow(constant, { t: null })), [1999]);
  await assert.rejects(
    fitFeatures(spec({ column: 't', transform: 'dateparts' }), [{ t: { at: 1 } }]),
    badRequest(/column "t": expected a number/),
  );
  const fitted = await fitFeatures(spec({ column: 't', transform: 'dateparts' }), [{ t: 0 }]);
  assert.throws(
    () => parseFittedFeatures({ ...fitted, inputs: [{ column: 't', type: 'FLOAT' }] }),
    badRequest(/transforms\[0\] reads column "t" as DOUBLE, but inputs declare FLOAT/),
  );
});
