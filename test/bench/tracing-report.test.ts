/**
 * The tracing bench compares each round with the same round's "off" and reports the median of
 * those ratios: one slow round of "off" (adjacent runs on these VMs differ by up to 30%) must not
 * move every configuration's figure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadResult } from '../../bench/load/load-result.ts';
import { pairedRatios, renderTracingBench, type TracingBenchRow } from '../../bench/tracing/tracing-bench.ts';

function run(throughput: number): LoadResult {
  return {
    completed: throughput * 3,
    errors: 0,
    seconds: 3,
    throughput,
    latency: { p50: 1, p90: 2, p99: 3, mean: 1, max: 4 } as LoadResult['latency'],
    cpuPercent: 50,
    elu: 0.5,
  };
}

const off: TracingBenchRow = { name: 'off', runs: [100, 50, 100].map(run) };
const traced: TracingBenchRow = { name: 'tracing 100%', runs: [90, 45, 60].map(run) };

test('each round is compared with its own "off"', () => {
  assert.deepEqual(pairedRatios(traced, off), [0.9, 0.9, 0.6]);
  assert.deepEqual(pairedRatios({ name: 'short', runs: [run(10)] }, off), [0.1]);
});

test('the report gives the median paired ratio and its range', () => {
  const text = renderTracingBench({
    rows: [off, traced],
    otlpSpans: { received: 9, made: 9 },
    durationMs: 3000,
    rounds: 3,
  });
  const line = text.split('\n').find((l) => l.startsWith('| tracing 100%'));
  assert.ok(line !== undefined, text);
  const cells = line.split('|').map((c) => c.trim());
  assert.equal(cells[3], '0.900');
  assert.equal(cells[4], '0.60–0.90');
  assert.equal(cells[5], '10.0%');
  assert.equal(cells[8], '≤ 15%');
});
