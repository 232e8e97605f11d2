import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadResult } from '../../bench/load/load-result.ts';
import {
  compare,
  type PeerCell,
  type PeersBenchResult,
  type PeerSystem,
  ratio,
  renderPeersBench,
} from '../../bench/peers/peers-report.ts';

function load(throughput: number, p99: number, errors = 0): LoadResult {
  return {
    completed: Math.round(throughput * 5),
    errors,
    seconds: 5,
    throughput,
    latency: { count: Math.round(throughput * 5), mean: p99 / 3, p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 },
    cpuPercent: 40,
    elu: 0.3,
  };
}

function cell(system: PeerSystem, concurrency: number, result: PeerCell['result']): PeerCell {
  return { system, model: 'mlp', concurrency, result };
}

function bench(cells: PeerCell[], ray: true | string = true): PeersBenchResult {
  return {
    models: [{ name: 'mlp', description: 'the MLP' }],
    concurrencies: [1, 64],
    systems: [
      { system: 'stratum', label: 'stratum serve', available: true },
      { system: 'fastapi', label: 'uvicorn', available: true },
      { system: 'ray', label: 'ray serve', available: ray },
    ],
    cells,
    warmupMs: 1000,
    durationMs: 5000,
    notes: ['a note'],
  };
}

test('ratio divides, and says — when a side is missing, zero or not finite', () => {
  assert.equal(ratio(4000, 1000), '4.00×');
  assert.equal(ratio(12_000, 1000), '12.0×');
  assert.equal(ratio(1, 3), '0.33×');
  assert.equal(ratio(undefined, 1000), '—');
  assert.equal(ratio(1000, 0), '—');
  assert.equal(ratio(Number.NaN, 10), '—');
});

test('compare gives Stratum over the peer in req/s and the peer over Stratum in p99, at one cell', () => {
  const result = bench([
    cell('stratum', 64, load(4000, 40)),
    cell('fastapi', 64, load(1000, 160)),
    cell('stratum', 1, load(900, 2)),
  ]);
  assert.deepEqual(compare(result, { model: 'mlp', concurrency: 64, peer: 'fastapi' }), {
    throughput: '4.00×',
    p99: '4.00×',
  });
  // No FastAPI cell at c=1, and no Ray cell at all.
  assert.deepEqual(compare(result, { model: 'mlp', concurrency: 1, peer: 'fastapi' }), { throughput: '—', p99: '—' });
  assert.deepEqual(compare(result, { model: 'mlp', concurrency: 64, peer: 'ray' }), { throughput: '—', p99: '—' });
});

test('a failed window is a row with its reason, and takes no part in the ratios', () => {
  const result = bench([
    cell('stratum', 64, load(4000, 40)),
    cell('fastapi', 64, { error: 'validation request failed: HTTP 500 | boom' }),
  ]);
  const markdown = renderPeersBench(result);
  assert.match(markdown, /\| 64 \| FastAPI \+ onnxruntime \| failed: validation request failed: HTTP 500 \\\| boom \|/);
  assert.deepEqual(compare(result, { model: 'mlp', concurrency: 64, peer: 'fastapi' }), { throughput: '—', p99: '—' });
});

test('a peer that could not be installed says why, and its rows say it was not measured', () => {
  const markdown = renderPeersBench(
    bench(
      [cell('stratum', 1, load(900, 2)), cell('fastapi', 1, load(800, 3))],
      'import ray.serve failed: No module named jinja2',
    ),
  );
  assert.match(
    markdown,
    /\| Ray Serve @serve\.batch \| \*\*not measured\*\*: import ray\.serve failed: No module named jinja2 \|/,
  );
  assert.match(markdown, /\| 1 \| Ray Serve @serve\.batch \| not measured \(see above\) \|/);
  assert.match(markdown, /\| 1 \| FastAPI \+ onnxruntime \| 800 \| 0\.75 \| 3\.00 \| 0 \| 1\.13× \| 1\.50× \|/);
});

test('the goal row: ahead only when Stratum has more req/s and a lower p99 than every measured peer on every row', () => {
  const ahead = bench([
    cell('stratum', 1, load(900, 2)),
    cell('fastapi', 1, load(800, 3)),
    cell('ray', 1, load(50, 40)),
    cell('stratum', 64, load(11_000, 30)),
    cell('fastapi', 64, load(1000, 160)),
    cell('ray', 64, load(150, 700)),
  ]);
  assert.match(renderPeersBench(ahead), /\| mlp \| yes \| 11\.0× \| 30\.0 \|/);
  // Faster, but with a worse p99 at c=1 than FastAPI: not ahead on every row.
  const behind = bench([
    cell('stratum', 1, load(900, 4)),
    cell('fastapi', 1, load(800, 3)),
    cell('stratum', 64, load(3000, 60)),
    cell('fastapi', 64, load(1000, 160)),
  ]);
  assert.match(renderPeersBench(behind), /\| mlp \| no \| 3\.00× \| 60\.0 \|/);
  assert.match(renderPeersBench(bench([])), /\| mlp \| — \| — \| — \|/);
});

test('requests left unanswered after the drain are shown beside the errors', () => {
  const stalled = { ...load(100, 900, 2), unfinished: 37 };
  const markdown = renderPeersBench(bench([cell('stratum', 64, load(4000, 40)), cell('ray', 64, stalled)]));
  assert.match(
    markdown,
    /\| 64 \| Ray Serve @serve\.batch \| 100 \| 225\.0 \| 900\.0 \| 2 \(\+37 unanswered\) \| 40\.0× \| 22\.5× \|/,
  );
});
