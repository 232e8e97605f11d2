// ASHA's rungs and decisions on recorded rung values, hand-checkable: the cutoff is the (1 − 1/η)
// quantile of what the rung holds (the trial's own value included), interpolated as NumPy does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ashaDecision, percentile, rungMilestones } from '../../../src/jobs/tune/asha.ts';

test('rungs sit at gracePeriod · η^k below maxResource', () => {
  assert.deepEqual(rungMilestones({ gracePeriod: 1, reductionFactor: 4, maxResource: 100 }), [1, 4, 16, 64]);
  assert.deepEqual(rungMilestones({ gracePeriod: 2, reductionFactor: 2, maxResource: 16 }), [2, 4, 8]);
  assert.deepEqual(rungMilestones({ gracePeriod: 5, reductionFactor: 3, maxResource: 6 }), [5]);
});

test('percentile interpolates linearly between ranks', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([4, 1, 3, 2], 75), 3.25);
  assert.equal(percentile([7], 90), 7);
});

test('the first trial at a rung always continues', () => {
  assert.equal(ashaDecision({ value: 9, recorded: [9], reductionFactor: 3, mode: 'min' }), 'continue');
});

test('η = 2, lower is better: only the better half of the rung goes on', () => {
  // Losses recorded at the rung: 0.2, 0.4, 0.5 and the trial's own. Negated: −0.2, −0.4, −0.5, −x;
  // the 50th percentile of the four is the mean of the middle two.
  const rung = [0.2, 0.4, 0.5];
  assert.equal(ashaDecision({ value: 0.3, recorded: [...rung, 0.3], reductionFactor: 2, mode: 'min' }), 'continue');
  assert.equal(ashaDecision({ value: 0.45, recorded: [...rung, 0.45], reductionFactor: 2, mode: 'min' }), 'stop');
  // Just better than the cutoff (the median of [0.2, 0.35, 0.4, 0.5] is 0.375): continues.
  assert.equal(ashaDecision({ value: 0.35, recorded: [...rung, 0.35], reductionFactor: 2, mode: 'min' }), 'continue');
});

test('η = 3, higher is better: the cutoff is the 66.7th percentile', () => {
  const rung = [0.6, 0.7, 0.8, 0.9, 0.75];
  // With 0.85 added: sorted [0.6, 0.7, 0.75, 0.8, 0.85, 0.9]; position 5 · 2/3 = 3.33 → 0.8 + 0.05 · 0.33 ≈ 0.8167.
  assert.equal(ashaDecision({ value: 0.85, recorded: [...rung, 0.85], reductionFactor: 3, mode: 'max' }), 'continue');
  // With 0.78 added: sorted [0.6, 0.7, 0.75, 0.78, 0.8, 0.9]; the cutoff is 0.78 + 0.02 · 0.33 ≈ 0.7867.
  assert.equal(ashaDecision({ value: 0.78, recorded: [...rung, 0.78], reductionFactor: 3, mode: 'max' }), 'stop');
});

test('a value that is not finite stops; non-finite records are ignored', () => {
  assert.equal(ashaDecision({ value: Number.NaN, recorded: [1, 2], reductionFactor: 2, mode: 'min' }), 'stop');
  assert.equal(ashaDecision({ value: 1, recorded: [Number.NaN, 1], reductionFactor: 2, mode: 'min' }), 'continue');
});
