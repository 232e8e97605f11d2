import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DEFAULT_RDP_ORDERS,
  dpSgdEpsilon,
  logErfc,
  privacySpent,
  rdpOfSampledGaussian,
} from '../../../src/train/privacy/rdp-accountant.ts';

interface ReferenceCase {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
  delta: number;
  rdp: Record<string, number>;
  epsilon: number;
  order: number;
  classicEpsilon: number;
}

// Written by test/fixtures/cards/make-rdp-fixture.py (an independent SciPy implementation).
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/cards/rdp-reference.json', import.meta.url), 'utf8'),
) as { orders: number[]; cases: ReferenceCase[] };

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

test('the orders are the reference implementation’s', () => {
  assert.deepEqual([...DEFAULT_RDP_ORDERS], reference.orders);
});

test('RDP at integer and fractional orders matches the SciPy reference', () => {
  for (const c of reference.cases) {
    const orders = Object.keys(c.rdp).map(Number);
    const rdp = rdpOfSampledGaussian(c, orders);
    for (const [i, order] of orders.entries()) {
      const want = c.rdp[String(order)] ?? c.rdp[order.toFixed(1)];
      assert.ok(want !== undefined);
      assert.ok(
        relative(rdp[i] as number, want) < 1e-5,
        `q=${c.samplingRate} σ=${c.noiseMultiplier} α=${order}: ${rdp[i]} vs ${want}`,
      );
    }
  }
});

test('ε at δ matches the reference, with the same best order', () => {
  for (const c of reference.cases) {
    const spent = dpSgdEpsilon(c);
    assert.ok(relative(spent.epsilon, c.epsilon) < 1e-5, `${spent.epsilon} vs ${c.epsilon}`);
    assert.equal(spent.order, c.order);
  }
});

test("TF Privacy's published MNIST figures (N=60000, batch 256, δ=1e-5) with the classic conversion", () => {
  // tensorflow/privacy tutorials/README.md: σ 1.1 for 60 epochs → ε 3.01; σ 1.3, 15 epochs → 1.19; σ 0.7, 45 epochs → 7.10,
  // made with compute_dp_sgd_privacy's orders (1.1 … 10.9, 12 … 63) and the pre-2020 conversion.
  const orders = [
    ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
    ...Array.from({ length: 52 }, (_, i) => i + 12),
  ];
  for (const [sigma, epochs, published] of [
    [1.1, 60, 3.01],
    [1.3, 15, 1.19],
    [0.7, 45, 7.1],
  ] as const) {
    const mechanism = { samplingRate: 256 / 60000, noiseMultiplier: sigma, steps: Math.ceil((epochs * 60000) / 256) };
    const classic = privacySpent({
      orders,
      rdp: rdpOfSampledGaussian(mechanism, orders),
      delta: 1e-5,
      conversion: 'classic',
    });
    assert.equal(classic.epsilon.toFixed(2), published.toFixed(2), `σ=${sigma}, ${epochs} epochs`);
    // The improved conversion is never looser.
    assert.ok(dpSgdEpsilon({ ...mechanism, delta: 1e-5 }).epsilon <= classic.epsilon);
  }
});

test('ε grows with the steps and the sampling rate and falls with the noise', () => {
  const base = { samplingRate: 0.01, noiseMultiplier: 1, steps: 1000, delta: 1e-5 };
  const e = dpSgdEpsilon(base).epsilon;
  assert.ok(dpSgdEpsilon({ ...base, steps: 2000 }).epsilon > e);
  assert.ok(dpSgdEpsilon({ ...base, samplingRate: 0.02 }).epsilon > e);
  assert.ok(dpSgdEpsilon({ ...base, noiseMultiplier: 2 }).epsilon < e);
  // Nothing released: only the conversion's slack at the largest order remains.
  assert.ok(dpSgdEpsilon({ ...base, samplingRate: 0 }).epsilon < 0.01);
});

test('without subsampling the RDP is the Gaussian mechanism’s α/(2σ²)', () => {
  assert.deepEqual(rdpOfSampledGaussian({ samplingRate: 1, noiseMultiplier: 2, steps: 3 }, [2, 10]), [0.75, 3.75]);
});

test('ln erfc against known values, far into the tail', () => {
  // erfc(0)=1, erfc(1)=0.157299207050285, erfc(-1)=1.842700792949715, ln erfc(10)=ln(2.088487583762545e-45)
  for (const [x, want] of [
    [0, 0],
    [1, Math.log(0.157299207050285)],
    [-1, Math.log(1.842700792949715)],
    [10, Math.log(2.088487583762545e-45)],
  ] as const) {
    assert.ok(Math.abs(logErfc(x) - want) < 2e-7 * Math.max(1, Math.abs(want)), `x=${x}: ${logErfc(x)} vs ${want}`);
  }
});
