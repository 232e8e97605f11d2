/**
 * Dataset profiles: exact statistics on small data, quantile rank error ≤ 1 % on 100k skewed
 * values, merge(a, b) equal to the profile of a ∪ b, a serialized size that stays bounded as the
 * row count grows, missing-value detection, top categories and distinct counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../src/errors/index.ts';
import {
  formatProfile,
  KllSketch,
  mergeProfiles,
  parseDatasetProfile,
  profileDataset,
  PROFILE_QUANTILES,
  type ColumnProfile,
  type DatasetProfile,
} from '../../src/data/profile/index.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { assertClose } from '../helpers/assert-close.ts';

// |actual − expected| ≤ 1e-9·max(1, |expected|).
const TOLERANCE = { atol: 1e-9, rtol: 1e-9, combine: 'max' } as const;

const RANK_ERROR_BOUND = 0.01;

function column(profile: DatasetProfile, name: string): ColumnProfile {
  const found = profile.columns.find((c) => c.name === name);
  assert.ok(found !== undefined, `no column ${name}`);
  return found;
}

function logNormal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.exp(1.5 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random()));
}

/** Skewed rows: a log-normal amount, a Zipf-like city, a flag, and missing cells of every kind. */
function skewedRows(options: { count: number; seed: number }): Record<string, unknown>[] {
  const random = mulberry32(options.seed);
  return Array.from({ length: options.count }, (_, i) => {
    const r = random();
    const amount = r < 0.02 ? null : r < 0.03 ? Number.NaN : logNormal(random);
    const city = `city-${Math.floor(1 / Math.max(random(), 1e-9)) % 500}`;
    const row: Record<string, unknown> = { amount, city, flag: random() < 0.3 };
    if (i % 10 !== 0) row.when = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 86_400_000 * 365));
    return row;
  });
}

/** Fraction of `sorted` strictly below `value`. */
function exactRank(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

test('small data: exact counts, moments, quantiles, histogram, categories and kinds', async () => {
  const rows = [
    { x: 1, city: 'paris', ok: true, mixed: 1, when: new Date(Date.UTC(2024, 1, 29)) },
    { x: 2, city: 'lyon', ok: false, mixed: 'a' },
    { x: 3, city: 'paris', ok: true, mixed: null, junk: { a: 1 } },
    { x: 4, city: '', ok: null },
    { x: null, city: 'paris', ok: undefined },
    { x: Number.NaN, city: null },
    { x: 5, city: 'rome', when: new Date(Number.NaN) },
    { x: 6n, city: 'lyon' },
    { x: 7, city: 'paris' },
    { x: 8 },
    { x: 9, city: 'oslo' },
    { x: 10, empty: '' },
  ];
  const profile = await profileDataset(rows);
  assert.equal(profile.format, 'stratum.profile/v1');
  assert.equal(profile.rows, 12);

  const x = column(profile, 'x');
  assert.equal(x.kind, 'numeric');
  assert.equal(x.count, 12);
  assert.equal(x.missing, 2, 'null and NaN');
  const n = x.numeric;
  assert.ok(n !== null);
  assert.equal(n.count, 10);
  assert.equal(n.min, 1);
  assert.equal(n.max, 10);
  assertClose(n.mean, 5.5, { ...TOLERANCE, label: 'mean' });
  assertClose(n.std, Math.sqrt(8.25), { ...TOLERANCE, label: 'population std' });
  // the quantile is the smallest value whose rank reaches q·n
  assert.deepEqual(n.quantiles, { p1: 1, p5: 1, p25: 3, p50: 5, p75: 8, p95: 10, p99: 10 });
  assert.equal(n.histogram?.counts.length, 20);
  assert.equal(n.histogram?.edges.length, 21);
  assert.deepEqual(n.histogram?.counts, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);

  const city = column(profile, 'city');
  assert.equal(city.kind, 'categorical');
  assert.equal(city.missing, 4, "'' , null and two rows without the column");
  assert.equal(city.categorical?.distinct, 4);
  assert.equal(city.categorical?.distinctExact, true);
  assert.equal(city.categorical?.topExact, true);
  assert.deepEqual(city.categorical?.top, [
    { value: 'paris', count: 4 },
    { value: 'lyon', count: 2 },
    { value: 'oslo', count: 1 },
    { value: 'rome', count: 1 },
  ]);

  const ok = column(profile, 'ok');
  assert.equal(ok.kind, 'boolean');
  assert.deepEqual(ok.boolean, { count: 3, trueCount: 2 });
  assert.equal(ok.missing, 9);

  assert.equal(column(profile, 'mixed').kind, 'mixed');
  assert.equal(column(profile, 'junk').kind, 'mixed');
  assert.equal(column(profile, 'junk').otherCount, 1);
  assert.equal(column(profile, 'empty').kind, 'empty');
  assert.equal(column(profile, 'empty').missing, 12);

  const when = column(profile, 'when');
  assert.equal(when.kind, 'numeric', 'dates are epoch milliseconds');
  assert.equal(when.missing, 11, 'an invalid Date is missing');
  assert.equal(when.numeric?.min, Date.UTC(2024, 1, 29));
  assert.deepEqual(when.numeric?.histogram?.counts, [1], 'a constant column has one bin');

  assert.deepEqual(parseDatasetProfile(JSON.parse(JSON.stringify(profile))), profile);
});

test('quantiles on 100k log-normal values: rank error ≤ 1 % (p1…p99 and every percentile)', async () => {
  const random = mulberry32(11);
  const values = Float64Array.from({ length: 100_000 }, () => logNormal(random));
  const sorted = Float64Array.from(values).sort();
  const profile = await profileDataset(Array.from(values, (amount) => ({ amount })));
  const numeric = column(profile, 'amount').numeric;
  assert.ok(numeric !== null && numeric.quantiles !== null && numeric.histogram !== null);
  let worst = 0;
  for (const [key, q] of Object.entries(PROFILE_QUANTILES)) {
    const value = numeric.quantiles[key as keyof typeof PROFILE_QUANTILES];
    const error = Math.abs(exactRank(sorted, value) - q);
    worst = Math.max(worst, error);
    assert.ok(error <= RANK_ERROR_BOUND, `${key}: rank ${exactRank(sorted, value)} vs ${q}`);
  }
  const sketch = KllSketch.fromJSON(numeric.state.sketch);
  for (let i = 1; i < 100; i++) {
    const error = Math.abs(exactRank(sorted, sketch.quantile(i / 100)) - i / 100);
    worst = Math.max(worst, error);
    assert.ok(error <= RANK_ERROR_BOUND, `p${i}: rank error ${error}`);
  }
  assert.equal(numeric.min, sorted[0]);
  assert.equal(numeric.max, sorted[sorted.length - 1]);

  // histogram bins: each within 2 × the rank bound of the exact count
  const { edges, counts } = numeric.histogram;
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    values.length,
  );
  let worstBin = 0;
  counts.forEach((count, i) => {
    const lo = edges[i] ?? 0;
    const hi = edges[i + 1] ?? 0;
    const exact = values.filter((v) => v >= lo && (i === counts.length - 1 ? v <= hi : v < hi)).length;
    worstBin = Math.max(worstBin, Math.abs(count - exact) / values.length);
    assert.ok(Math.abs(count - exact) <= 2 * RANK_ERROR_BOUND * values.length, `bin ${i}: ${count} vs ${exact}`);
  });
  process.stdout.write(`# worst rank error ${worst.toFixed(5)}, worst bin error ${worstBin.toFixed(5)} of n\n`);
});

test('mergeProfiles(a, b) equals profileDataset(a ∪ b): counts exact, moments close, quantiles within bound', async () => {
  const rows = skewedRows({ count: 30_000, seed: 3 });
  const shards = [rows.slice(0, 4_000), rows.slice(4_000, 19_000), rows.slice(19_000)];
  // the first shard has a column the others lack, so merged missing counts are tested too
  shards[0] = (shards[0] ?? []).map((row, i) => ({ ...row, only: i }));
  const all = (shards as Record<string, unknown>[][]).flat();
  const whole = await profileDataset(all);
  const parts = await Promise.all(shards.map((shard) => profileDataset(shard)));
  const [p0, p1, p2] = parts.map((p) => parseDatasetProfile(JSON.parse(JSON.stringify(p))));
  assert.ok(p0 !== undefined && p1 !== undefined && p2 !== undefined);
  const merged = mergeProfiles(p0, mergeProfiles(p1, p2));

  assert.equal(merged.rows, whole.rows);
  assert.deepEqual(
    merged.columns.map((c) => c.name),
    whole.columns.map((c) => c.name),
  );
  for (const expected of whole.columns) {
    const actual = column(merged, expected.name);
    assert.equal(actual.kind, expected.kind, expected.name);
    assert.equal(actual.count, expected.count, expected.name);
    assert.equal(actual.missing, expected.missing, `${expected.name} missing`);
    assert.deepEqual(actual.boolean, expected.boolean);
    if (expected.numeric === null) continue;
    const a = actual.numeric;
    const e = expected.numeric;
    assert.ok(a !== null);
    assert.equal(a.count, e.count);
    assert.equal(a.min, e.min);
    assert.equal(a.max, e.max);
    assertClose(a.mean, e.mean ?? Number.NaN, { ...TOLERANCE, label: `${expected.name} mean` });
    assertClose(a.std, e.std ?? Number.NaN, { ...TOLERANCE, label: `${expected.name} std` });
    const sorted = Float64Array.from(
      all.flatMap((row) => {
        const v = row[expected.name];
        const n = v instanceof Date ? v.getTime() : v;
        return typeof n === 'number' && Number.isFinite(n) ? [n] : [];
      }),
    ).sort();
    for (const [key, q] of Object.entries(PROFILE_QUANTILES)) {
      const value = a.quantiles?.[key as keyof typeof PROFILE_QUANTILES] ?? Number.NaN;
      const error = Math.abs(exactRank(sorted, value) - q);
      assert.ok(error <= RANK_ERROR_BOUND, `${expected.name} ${key}: merged rank error ${error}`);
    }
  }
  const city = column(merged, 'city').categorical;
  const expectedCity = column(whole, 'city').categorical;
  assert.equal(city?.distinct, expectedCity?.distinct);
  assert.equal(city?.distinctExact, false, 'about 500 distinct cities exceed the exact cap of 256');
  assert.deepEqual(
    city?.top.slice(0, 5).map((item) => item.value),
    expectedCity?.top.slice(0, 5).map((item) => item.value),
  );
  assert.equal(column(merged, 'only').missing, 26_000);
});

test('profiles made with different settings do not merge', async () => {
  const a = await profileDataset([{ x: 1 }]);
  const b = await profileDataset([{ x: 2 }], { quantileK: 100 });
  assert.throws(
    () => mergeProfiles(a, b),
    (error: unknown) =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && /settings\.quantileK/.test(error.message),
  );
});

test('memory is bounded: 1M rows serialize to a profile about the size of 100k rows', async () => {
  function* generate(count: number): Iterable<Record<string, unknown>> {
    const random = mulberry32(5);
    for (let i = 0; i < count; i++) {
      yield { amount: logNormal(random), id: `user-${i}`, device: i % 7 === 0 ? 'tv' : 'phone' };
    }
  }
  const small = await profileDataset(generate(100_000));
  const large = await profileDataset(generate(1_000_000));
  const smallBytes = JSON.stringify(small).length;
  const largeBytes = JSON.stringify(large).length;
  process.stdout.write(`# serialized profile: 100k rows ${smallBytes} B, 1M rows ${largeBytes} B\n`);
  assert.ok(largeBytes < 40_000, `1M-row profile is ${largeBytes} bytes`);
  assert.ok(largeBytes < 1.2 * smallBytes, `${largeBytes} B for 1M rows vs ${smallBytes} B for 100k`);
  const retained = KllSketch.fromJSON(column(large, 'amount').numeric?.state.sketch ?? assert.fail()).retained;
  assert.ok(retained < 800, `the sketch holds ${retained} numbers`);
  const id = column(large, 'id').categorical;
  assert.ok(id !== null && !id.distinctExact);
  assert.ok(Math.abs(id.distinct - 1_000_000) / 1_000_000 < 0.05, `distinct estimate ${id.distinct}`);
  assert.deepEqual(column(large, 'device').categorical?.top, [
    { value: 'phone', count: 857_142 },
    { value: 'tv', count: 142_858 },
  ]);
});

test('top categories under heavy skew: the true top 10 in order, counts within the undercount bound', async () => {
  const random = mulberry32(8);
  const values = Array.from({ length: 100_000 }, () => `c${Math.floor(1 / Math.max(random(), 1e-9))}`);
  const profile = await profileDataset(values.map((c) => ({ c })));
  const summary = column(profile, 'c').categorical;
  assert.ok(summary !== null);
  assert.equal(summary.topExact, false);
  const exact = new Map<string, number>();
  for (const value of values) exact.set(value, (exact.get(value) ?? 0) + 1);
  const expected = [...exact].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
  assert.deepEqual(
    summary.top.slice(0, 5).map((item) => item.value),
    expected.slice(0, 5).map(([value]) => value),
  );
  const undercount = summary.state.frequent.undercount;
  assert.ok(undercount <= values.length / 65, `undercount ${undercount} exceeds n / (capacity + 1)`);
  for (const item of summary.top) {
    const truth = exact.get(item.value) ?? 0;
    assert.ok(item.count <= truth && truth <= item.count + undercount, `${item.value}: ${item.count} vs ${truth}`);
  }
  assert.ok(Math.abs(summary.distinct - exact.size) / exact.size < 0.05, `${summary.distinct} vs ${exact.size}`);
});

test('a streamed (async) source gives the same profile as an array', async () => {
  const rows = skewedRows({ count: 2_000, seed: 4 });
  async function* streamed(): AsyncIterable<Record<string, unknown>> {
    for (const row of rows) yield await Promise.resolve(row);
  }
  assert.deepEqual(await profileDataset(streamed()), await profileDataset(rows));
});

test('formatProfile prints one aligned line per column', async () => {
  const profile = await profileDataset(skewedRows({ count: 1_000, seed: 9 }));
  const text = formatProfile(profile);
  const lines = text.split('\n');
  assert.equal(lines[0], '1000 rows, 4 columns');
  assert.match(lines[1] ?? '', /^column\s+kind\s+missing\s+min\s+p50\s+max\s+mean\s+std\s+distinct\s+top\s+histogram$/);
  assert.equal(lines.length, 2 + profile.columns.length);
  assert.match(text, /amount\s+numeric\s+\d+ \(\d+\.\d%\)/);
  assert.match(text, /city\s+categorical/);
  assert.match(text, /flag\s+boolean .*true \(\d+\), false \(\d+\)/);
});

test('bad rows and bad options are BAD_REQUEST errors that say where', async () => {
  await assert.rejects(
    profileDataset([{ a: 1 }, 42 as unknown as Record<string, unknown>]),
    (error: unknown) => error instanceof StratumError && error.code === 'BAD_REQUEST' && /row 2/.test(error.message),
  );
  await assert.rejects(
    profileDataset([], { histogramBins: 0 }),
    (error: unknown) => error instanceof StratumError && /histogramBins/.test(error.message),
  );
  await assert.rejects(
    profileDataset([], { bins: 3 } as never),
    (error: unknown) => error instanceof StratumError && /bins/.test(error.message),
  );
});
