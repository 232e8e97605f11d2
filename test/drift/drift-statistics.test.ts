// The drift statistics against SciPy/NumPy values (fixtures/make-drift-statistics.py wrote them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  binCounts,
  chiSquare,
  jensenShannon,
  ksBinned,
  ksTwoSample,
  populationStability,
  standardDeviation,
  sturgesEdges,
  twoProportionZ,
  wassersteinBinned,
  wassersteinSamples,
} from '../../src/drift/drift-statistics.ts';
import { assertClose } from '../helpers/assert-close.ts';

interface Fixture {
  ks: {
    name: string;
    reference: number[];
    current: number[];
    statistic: number;
    pValue: number;
    pValueAsymp: number;
  }[];
  wasserstein: { name: string; reference: number[]; current: number[]; distance: number; referenceStd: number }[];
  chisquare: { name: string; reference: number[]; current: number[]; statistic: number; pValue: number }[];
  z: {
    name: string;
    referenceRows: number;
    referenceFirst: number;
    currentRows: number;
    currentFirst: number;
    statistic: number;
    pValue: number;
    pValueSf: number;
  }[];
  shares: { name: string; reference: number[]; current: number[]; jensenShannon: number; psi: number }[];
  sturges: {
    name: string;
    reference: number[];
    current: number[];
    edges: number[];
    referenceCounts: number[];
    currentCounts: number[];
  }[];
  binned: {
    name: string;
    edges: number[];
    counts: number[];
    current: number[];
    ksStatistic: number;
    wasserstein: number;
    exactKsStatistic: number;
    exactWasserstein: number;
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/drift-statistics.json', import.meta.url), 'utf8'),
) as Fixture;

const sorted = (values: readonly number[]): Float64Array => Float64Array.from(values).sort();

describe('drift statistics against SciPy', () => {
  for (const c of fixture.ks) {
    test(`ks_2samp: ${c.name}`, () => {
      const outcome = ksTwoSample(sorted(c.reference), sorted(c.current));
      assertClose(outcome.statistic, c.statistic, { atol: 1e-12 });
      // The asymptotic p-value with Stephens' correction, against SciPy's exact or asymptotic one:
      // close in absolute terms, and on the same side of 0.05.
      assertClose(outcome.pValue ?? NaN, c.pValue, { atol: 0.02 });
      assert.equal((outcome.pValue ?? NaN) < 0.05, c.pValue < 0.05, `${outcome.pValue} vs ${c.pValue}`);
    });
  }

  for (const c of fixture.wasserstein) {
    test(`wasserstein_distance: ${c.name}`, () => {
      assertClose(wassersteinSamples(sorted(c.reference), sorted(c.current)), c.distance, { rtol: 1e-12, atol: 1e-12 });
      assertClose(standardDeviation(Float64Array.from(c.reference)), c.referenceStd, { rtol: 1e-12 });
    });
  }

  for (const c of fixture.chisquare) {
    test(`chisquare: ${c.name}`, () => {
      const outcome = chiSquare(c.reference, c.current);
      assertClose(outcome.statistic, c.statistic, { rtol: 1e-12, atol: 1e-12 });
      assertClose(outcome.pValue ?? NaN, c.pValue, { rtol: 1e-9, atol: 1e-15 });
    });
  }

  test('chisquare: a category the reference never saw is certain drift', () => {
    const outcome = chiSquare([10, 0], [5, 5]);
    assert.equal(outcome.statistic, Infinity);
    assert.equal(outcome.pValue, 0);
  });

  for (const c of fixture.z) {
    test(`two-proportion z: ${c.name}`, () => {
      const outcome = twoProportionZ(c);
      assertClose(outcome.statistic, c.statistic, { rtol: 1e-12, atol: 1e-12 });
      // Evidently writes 2(1 − Φ); the survival function is the same number without cancellation.
      assertClose(outcome.pValue ?? NaN, c.pValueSf, { rtol: 1e-9, atol: 1e-15 });
      assertClose(outcome.pValue ?? NaN, c.pValue, { atol: 1e-12 });
    });
  }

  for (const c of fixture.shares) {
    test(`jensenshannon and PSI: ${c.name}`, () => {
      assertClose(jensenShannon(c.reference, c.current), c.jensenShannon, { rtol: 1e-12, atol: 1e-12 });
      assertClose(populationStability(c.reference, c.current), c.psi, { rtol: 1e-12, atol: 1e-12 });
    });
  }

  for (const c of fixture.sturges) {
    test(`histogram_bin_edges(sturges) and histogram: ${c.name}`, () => {
      const reference = sorted(c.reference);
      const current = sorted(c.current);
      const edges = sturgesEdges({
        min: Math.min(reference[0] as number, current[0] as number),
        max: Math.max(reference.at(-1) as number, current.at(-1) as number),
        size: reference.length + current.length,
      });
      assert.equal(edges.length, c.edges.length);
      edges.forEach((e, i) => assertClose(e, c.edges[i] as number, { rtol: 1e-14, atol: 1e-14 }));
      assert.deepEqual(binCounts(edges, reference), c.referenceCounts);
      assert.deepEqual(binCounts(edges, current), c.currentCounts);
    });
  }

  for (const c of fixture.binned) {
    test(`binned reference: ${c.name}`, () => {
      const histogram = { edges: c.edges, counts: c.counts };
      const current = sorted(c.current);
      const ks = ksBinned(histogram, current);
      assertClose(ks.statistic, c.ksStatistic, { atol: 1e-12 });
      // NumPy's reference is a grid of 2000 points per bin: its integral is within a bin's width / 2000.
      const width = (c.edges.at(-1) as number) - (c.edges[0] as number);
      assertClose(wassersteinBinned(histogram, current), c.wasserstein, { atol: width / 20 / 1000 });
      // And the binned statistics approximate the exact ones (on the raw reference) to within the
      // mass of a bin for KS and the width of a bin for Wasserstein.
      const maxShare = Math.max(...c.counts) / c.counts.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(ks.statistic - c.exactKsStatistic) <= maxShare, `${ks.statistic} vs ${c.exactKsStatistic}`);
      assert.ok(Math.abs(wassersteinBinned(histogram, current) - c.exactWasserstein) <= width / 20);
    });
  }
});
