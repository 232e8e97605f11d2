// Column verdicts: Evidently's default test per column, both reference paths (raw sample and
// profile bins), the dataset share, and the worker thread giving the verdict the inline path gives.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { profileDataset } from '../../src/data/profile/index.ts';
import { defaultTest } from '../../src/drift/choose-test.ts';
import { computeDrift } from '../../src/drift/compute-drift.ts';
import { parseDriftConfig } from '../../src/drift/drift-config.ts';
import { referenceFromProfile, referenceFromSample } from '../../src/drift/drift-reference.ts';
import { createDriftRunner } from '../../src/drift/drift-runner.ts';
import {
  chiSquare,
  jensenShannon,
  ksTwoSample,
  twoProportionZ,
  wassersteinSamples,
  standardDeviation,
} from '../../src/drift/drift-statistics.ts';
import { windowColumns } from '../../src/drift/window-columns.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { assertClose } from '../helpers/assert-close.ts';

function normal(random: () => number, mean: number, sd: number): number {
  const u = Math.max(random(), 1e-12);
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const CITIES = ['berlin', 'lima', 'oslo', 'pune'];

/** Rows with a numeric `age`, a categorical `city`, a binary `plan` and a three-valued numeric `level`. */
function rows(count: number, options: { seed: number; ageMean: number; cityWeights?: number[] }) {
  const random = mulberry32(options.seed);
  const weights = options.cityWeights ?? [0.4, 0.3, 0.2, 0.1];
  return Array.from({ length: count }, () => {
    let u = random();
    let city = CITIES[CITIES.length - 1] as string;
    for (const [i, w] of weights.entries()) {
      if (u < w) {
        city = CITIES[i] as string;
        break;
      }
      u -= w;
    }
    return {
      age: Math.round(normal(random, options.ageMean, 10) * 100) / 100,
      city,
      plan: random() < 0.3 ? 'pro' : 'free',
      level: Math.floor(random() * 3),
    };
  });
}

const sortedOf = (values: number[]): Float64Array => Float64Array.from(values).sort();

describe('default tests (Evidently)', () => {
  test('small reference: KS for numbers, chi-square for categories, z for two', () => {
    assert.equal(defaultTest({ kind: 'numeric', referenceRows: 1000, distinctValues: 50 }), 'ks');
    assert.equal(defaultTest({ kind: 'categorical', referenceRows: 1000, distinctValues: 3 }), 'chisquare');
    assert.equal(defaultTest({ kind: 'categorical', referenceRows: 10, distinctValues: 2 }), 'z');
    assert.equal(defaultTest({ kind: 'numeric', referenceRows: 1000, distinctValues: 5 }), 'chisquare');
    assert.equal(defaultTest({ kind: 'numeric', referenceRows: 1000, distinctValues: 2 }), 'z');
  });
  test('large reference: normed Wasserstein for numbers, Jensen-Shannon for categories', () => {
    assert.equal(defaultTest({ kind: 'numeric', referenceRows: 1001, distinctValues: 6 }), 'wasserstein');
    assert.equal(defaultTest({ kind: 'numeric', referenceRows: 1001, distinctValues: 5 }), 'jensenshannon');
    assert.equal(defaultTest({ kind: 'categorical', referenceRows: 50_000, distinctValues: 2 }), 'jensenshannon');
  });
});

describe('computeDrift', () => {
  const config = parseDriftConfig({});

  test('raw sample of 800 rows: KS, chi-square and z, computed as the statistics compute them', async () => {
    const reference = rows(800, { seed: 1, ageMean: 40 });
    const current = rows(600, { seed: 2, ageMean: 44, cityWeights: [0.4, 0.3, 0.2, 0.1] });
    const ref = referenceFromSample({ rows: reference });
    const verdict = computeDrift({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config,
    });
    const byName = new Map(verdict.columns.map((c) => [c.name, c]));

    const age = byName.get('age');
    assert.equal(age?.test, 'ks');
    const ks = ksTwoSample(sortedOf(reference.map((r) => r.age)), sortedOf(current.map((r) => r.age)));
    assert.equal(age.statistic, ks.statistic);
    assert.equal(age.pValue, ks.pValue);
    assert.equal(age.drifted, true, 'a shift of 0.4 sd in 600 rows is detected');
    assert.equal(age.threshold, 0.05);

    const city = byName.get('city');
    assert.equal(city?.test, 'chisquare');
    const count = (list: typeof reference, key: string) => list.filter((r) => r.city === key).length;
    const chi = chiSquare(
      CITIES.map((c) => count(reference, c)),
      CITIES.map((c) => count(current, c)),
    );
    assertClose(city.statistic, chi.statistic, { rtol: 1e-12 });
    assert.deepEqual(city.histogram.categories, CITIES);
    assert.equal(city.drifted, (chi.pValue ?? 1) < 0.05);

    const plan = byName.get('plan');
    assert.equal(plan?.test, 'z');
    const z = twoProportionZ({
      referenceFirst: reference.filter((r) => r.plan === 'free').length,
      referenceRows: 800,
      currentFirst: current.filter((r) => r.plan === 'free').length,
      currentRows: 600,
    });
    assertClose(plan.statistic, z.statistic, { rtol: 1e-12 });

    // Three distinct numbers: judged as categories.
    assert.equal(byName.get('level')?.test, 'chisquare');
    assert.equal(byName.get('level')?.kind, 'numeric');
    assert.equal(verdict.driftShare, verdict.columns.filter((c) => c.drifted).length / 4);
    assert.equal(verdict.datasetDrift, verdict.driftShare >= 0.5);
  });

  test('raw sample of 3000 rows: normed Wasserstein and Jensen-Shannon', async () => {
    const reference = rows(3000, { seed: 3, ageMean: 40 });
    const current = rows(2000, { seed: 4, ageMean: 40, cityWeights: [0.1, 0.2, 0.3, 0.4] });
    const ref = referenceFromSample({ rows: reference });
    const verdict = computeDrift({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config,
    });
    const byName = new Map(verdict.columns.map((c) => [c.name, c]));
    const age = byName.get('age');
    assert.equal(age?.test, 'wasserstein');
    const refAges = sortedOf(reference.map((r) => r.age));
    assertClose(
      age.statistic,
      wassersteinSamples(refAges, sortedOf(current.map((r) => r.age))) / standardDeviation(refAges),
      { rtol: 1e-12 },
    );
    assert.equal(age.drifted, false);
    assert.equal(age.histogram.edges?.length, (age.histogram.reference.length ?? 0) + 1);
    assertClose(
      age.histogram.reference.reduce((a, b) => a + b, 0),
      1,
      { atol: 1e-12 },
    );
    const city = byName.get('city');
    assert.equal(city?.test, 'jensenshannon');
    assert.equal(city.drifted, true, 'reversed city weights drift');
    assert.equal(byName.get('level')?.test, 'jensenshannon');
  });

  test('profile reference: binned tests, top categories with (other), drift share and overrides', async () => {
    const reference = rows(5000, { seed: 5, ageMean: 40 });
    const profile = await profileDataset(reference, { topK: 2 });
    const ref = referenceFromProfile(profile);
    assert.equal(ref.rows, 5000);
    const current = [
      ...rows(1500, { seed: 6, ageMean: 52 }),
      { age: 1000, city: 'quito', plan: 'free', level: 1 }, // beyond the profile's range and top
    ];
    const verdict = computeDrift({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config: parseDriftConfig({
        driftShare: 0.25,
        columns: { plan: { test: 'psi', threshold: 0.2 }, level: { ignore: true } },
      }),
    });
    const byName = new Map(verdict.columns.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()], ['age', 'city', 'plan']);
    const age = byName.get('age');
    assert.equal(age?.test, 'wasserstein');
    assert.equal(age.drifted, true);
    // The histogram's edges were widened to hold the outlier.
    assert.equal(age.histogram.edges?.at(-1), 1000);
    const city = byName.get('city');
    assert.equal(city?.test, 'jensenshannon');
    assert.deepEqual(city.histogram.categories?.at(-1), '(other)');
    assert.equal(city.histogram.categories?.length, 3);
    // The top two are listed; the rest (and "quito") are compared as "(other)".
    const plan = byName.get('plan');
    assert.equal(plan?.test, 'psi');
    assert.equal(plan.threshold, 0.2);
    assert.equal(plan.drifted, false);
    assert.equal(verdict.driftShare, 1 / 3);
    assert.equal(verdict.datasetDrift, true);
  });

  test('a numeric test on a categorical column is refused, naming the column', async () => {
    const reference = rows(100, { seed: 7, ageMean: 40 });
    const ref = referenceFromSample({ rows: reference });
    const current = await windowColumns(reference, ref.columns);
    assert.throws(
      () =>
        computeDrift({
          references: ref.columns,
          current,
          config: parseDriftConfig({ columns: { city: { test: 'ks' } } }),
        }),
      /columns\.city\.test: "ks" compares numbers, and column "city" is categorical/,
    );
  });

  test('a same-distribution window does not drift; jensenshannon equals the statistic on the counts', async () => {
    const reference = rows(4000, { seed: 8, ageMean: 40 });
    const current = rows(4000, { seed: 9, ageMean: 40 });
    const ref = referenceFromSample({ rows: reference });
    const verdict = computeDrift({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config,
    });
    assert.equal(verdict.datasetDrift, false);
    assert.equal(verdict.driftShare, 0);
    const city = verdict.columns.find((c) => c.name === 'city');
    const count = (list: typeof reference, key: string) => list.filter((r) => r.city === key).length;
    assertClose(
      city?.statistic ?? NaN,
      jensenShannon(
        CITIES.map((c) => count(reference, c)),
        CITIES.map((c) => count(current, c)),
      ),
      { rtol: 1e-12 },
    );
  });

  test('the worker thread gives the verdict the inline path gives', async (t) => {
    const reference = rows(3000, { seed: 10, ageMean: 40 });
    const current = rows(5000, { seed: 11, ageMean: 43 });
    const ref = referenceFromSample({ rows: reference });
    const inline = computeDrift({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config,
    });
    const runner = createDriftRunner({ threadValues: 1 });
    t.after(() => runner.close());
    const threaded = await runner.run({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config,
    });
    assert.deepEqual(threaded, inline);
    const failing = runner.run({
      references: ref.columns,
      current: await windowColumns(current, ref.columns),
      config: parseDriftConfig({ columns: { city: { test: 'wasserstein' } } }),
    });
    await assert.rejects(failing, /columns\.city\.test/);
  });
});
