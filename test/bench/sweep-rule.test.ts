/**
 * The settings sweep's choice: the highest c=64 score among configurations whose c=1 p50 is
 * within LATENCY_SLACK_MS of the fastest, so a queue delay cannot buy throughput with the c=1
 * added-latency target (the full run of 2026-12-05 chose a 200 µs delay that way: 0.7 ms added).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SweepRow } from '../../bench/bench-results.ts';
import { LATENCY_SLACK_MS, markEligible, pickBest } from '../../bench/phases/sweep.ts';

function row(label: string, figures: { score: number; c1p50: Record<string, number> }): Omit<SweepRow, 'eligible'> {
  return {
    settings: { label, workers: 1, intraOpThreads: 1 },
    cells: [],
    at64: {},
    score: figures.score,
    c1p50: figures.c1p50,
  };
}

test('a faster configuration at c=64 that is slower at c=1 by more than the slack is not chosen', () => {
  const rows = markEligible([
    row('w2/t1/d0', { score: 4_100, c1p50: { mlp: 0.33 } }),
    row('w1/t1/d0', { score: 4_400, c1p50: { mlp: 0.36 } }),
    row('w2/t1/d200', { score: 4_600, c1p50: { mlp: 0.33 + LATENCY_SLACK_MS + 0.05 } }),
  ]);
  assert.deepEqual(
    rows.map((r) => r.eligible),
    [true, true, false],
  );
  assert.equal(pickBest(rows)?.settings.label, 'w1/t1/d0');
});

test('a queue delay that costs nothing at c=1 may win on throughput', () => {
  const rows = markEligible([
    row('w2/t1/d0', { score: 4_100, c1p50: { mlp: 0.33 } }),
    row('w2/t1/d200', { score: 4_600, c1p50: { mlp: 0.35 } }),
  ]);
  assert.equal(pickBest(rows)?.settings.label, 'w2/t1/d200');
});

test('every model counts: a configuration slower for one model is not eligible', () => {
  const rows = markEligible([
    row('w2/t1/d0', { score: 4_100, c1p50: { mlp: 0.33, transformer: 1.05 } }),
    row('w2/t1/d200/i1000', { score: 4_000, c1p50: { mlp: 0.3, transformer: 0.8 } }),
    row('w2/t1/d200', { score: 4_600, c1p50: { mlp: 0.34, transformer: 1.02 } }),
  ]);
  assert.deepEqual(
    rows.map((r) => r.eligible),
    [false, true, false],
  );
  assert.equal(pickBest(rows)?.settings.label, 'w2/t1/d200/i1000');
});

test('a row without a c=1 figure is eligible only when no row has one', () => {
  const some = markEligible([
    row('a', { score: 1, c1p50: { mlp: 0.3 } }),
    row('b', { score: 2, c1p50: { mlp: Number.NaN } }),
  ]);
  assert.deepEqual(
    some.map((r) => r.eligible),
    [true, false],
  );
  const none = markEligible([
    row('a', { score: 1, c1p50: { mlp: Number.NaN } }),
    row('b', { score: 2, c1p50: { mlp: Number.NaN } }),
  ]);
  assert.equal(pickBest(none)?.settings.label, 'b');
});
