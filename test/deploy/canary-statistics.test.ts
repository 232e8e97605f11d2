/**
 * The canary's statistics against values published or computed with SciPy 1.17 (each test names
 * the call), and against brute force where a definition is simple enough to write out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  binomialUpperTail,
  hodgesLehmannShift,
  hypergeometricUpperTail,
  mannWhitneyGreater,
  median,
  normalUpperTail,
  proportionGreater,
} from '../../src/deploy/canary-statistics.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';

function close(actual: number, expected: number, relative = 1e-5): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `expected ${expected}, got ${actual} (relative tolerance ${relative})`,
  );
}

test('normal upper tail: P(Z > 2), P(Z > −1.5), P(Z > 6) as scipy.stats.norm.sf', () => {
  close(normalUpperTail(2), 0.022750131948179195);
  close(normalUpperTail(-1.5), 0.9331927987311419);
  close(normalUpperTail(6), 9.865876450376946e-10);
  close(normalUpperTail(0), 0.5);
});

test('Mann–Whitney U, the example of the SciPy documentation (no ties)', () => {
  // mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12], alternative='greater', method='asymptotic')
  const result = mannWhitneyGreater([19, 22, 16, 29, 24], [20, 11, 17, 12]);
  assert.equal(result.u, 17);
  close(result.pValue, 0.055673443266570206);
});

test('Mann–Whitney U with ties: average ranks and the tie-corrected variance', () => {
  // mannwhitneyu(x, y, alternative='greater', method='asymptotic') → U = 51, p = 0.17098778385197877
  const x = [1, 2, 2, 3, 3, 3, 4, 5, 5, 6];
  const y = [1, 1, 2, 2, 3, 4, 4, 4];
  const result = mannWhitneyGreater(x, y);
  assert.equal(result.u, 51);
  close(result.pValue, 0.17098778385197877);
  // U counts the pairs where x is larger, ties one half: by brute force.
  let pairs = 0;
  for (const a of x) for (const b of y) pairs += a > b ? 1 : a === b ? 0.5 : 0;
  assert.equal(result.u, pairs);
});

test('Mann–Whitney U is one-sided: a sample tending to be smaller has a p-value near 1', () => {
  const fast = Array.from({ length: 50 }, (_, i) => 1 + i / 100);
  const slow = fast.map((v) => v + 5);
  assert.ok(mannWhitneyGreater(slow, fast).pValue < 1e-15);
  assert.ok(mannWhitneyGreater(fast, slow).pValue > 0.999999);
  assert.deepEqual(mannWhitneyGreater([2, 2, 2], [2, 2]), { u: 3, z: 0, pValue: 1 }, 'all tied: no evidence');
});

test('Hodges–Lehmann shift equals the median of every pairwise difference', () => {
  // numpy.median([a - b for a in x for b in y])
  assert.equal(hodgesLehmannShift([19, 22, 16, 29, 24], [20, 11, 17, 12]), 7);
  assert.equal(hodgesLehmannShift([1, 2, 2, 3, 3, 3, 4, 5, 5, 6], [1, 1, 2, 2, 3, 4, 4, 4]), 1);
  const random = mulberry32(9);
  for (const [n1, n2] of [
    [7, 9],
    [40, 33],
    [101, 64],
  ] as const) {
    const x = Array.from({ length: n1 }, () => Math.exp(random()) + 0.3);
    const y = Array.from({ length: n2 }, () => Math.exp(random()));
    const differences = x.flatMap((a) => y.map((b) => a - b));
    assert.equal(hodgesLehmannShift(x, y), median(differences), `n1 ${n1}, n2 ${n2}`);
  }
});

test('median of odd and even samples', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test("Fisher's exact test, one-sided: R's tea-tasting example and a small error count", () => {
  // fisher_exact([[3, 1], [1, 3]], alternative='greater') → 0.24285714285714283
  const tea = proportionGreater({ x1: 3, n1: 4, x2: 1, n2: 4 });
  assert.equal(tea.test, 'fisher');
  close(tea.pValue, 0.24285714285714283);
  // fisher_exact([[8, 992], [0, 1000]], alternative='greater') → 0.0038517404255419474
  const errors = proportionGreater({ x1: 8, n1: 1000, x2: 0, n2: 1000 });
  assert.equal(errors.test, 'fisher');
  close(errors.pValue, 0.0038517404255419474);
  assert.equal(proportionGreater({ x1: 0, n1: 100, x2: 0, n2: 900 }).pValue, 1, 'no errors anywhere');
});

test('two-proportion z-test once every expected count is 5 or more', () => {
  // p = 42/980; z = (30/500 − 12/480) / sqrt(p(1−p)(1/500 + 1/480)) → 2.704335932501895, sf → 0.003422052932010357
  const result = proportionGreater({ x1: 30, n1: 500, x2: 12, n2: 480 });
  assert.equal(result.test, 'z');
  close(result.z ?? NaN, 2.704335932501895, 1e-12);
  close(result.pValue, 0.003422052932010357);
});

test('binomial and hypergeometric upper tails as scipy.stats', () => {
  // binom.sf(10, 100, 0.05) = P(X ≥ 11)
  close(binomialUpperTail({ k: 11, n: 100, p: 0.05 }), 0.01147241006748471, 1e-9);
  // binom.sf(1099, 100000, 0.01): a tail over many trials
  close(binomialUpperTail({ k: 1100, n: 100_000, p: 0.01 }), 0.0009117803412450804, 1e-8);
  // below the mode, one minus the lower part
  close(
    binomialUpperTail({ k: 3, n: 100, p: 0.05 }),
    1 - (0.95 ** 100 + 100 * 0.05 * 0.95 ** 99 + 4950 * 0.05 ** 2 * 0.95 ** 98),
    1e-9,
  );
  assert.equal(binomialUpperTail({ k: 0, n: 10, p: 0.5 }), 1);
  assert.equal(binomialUpperTail({ k: 1, n: 10, p: 0 }), 0, 'a zero-rate limit: any event is beyond it');
  // hypergeom.sf(29, 980, 42, 500) = P(X ≥ 30)
  close(hypergeometricUpperTail({ k: 30, population: 980, successes: 42, draws: 500 }), 0.004950814500191735, 1e-9);
});
