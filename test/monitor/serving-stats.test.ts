/**
 * Serving statistics over time: quantiles from histogram buckets (hand-computed the way
 * Prometheus's histogram_quantile interpolates), the sampler over the real serving metrics with a
 * controlled clock (deltas, rates, error rate, the ring's bound, counter resets), and the stats
 * route of a real deployment whose per-version counts match the versions that answered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createServingMetrics } from '../../src/monitor/serving-metrics.ts';
import { createServingStats } from '../../src/monitor/serving-stats.ts';
import { bucketQuantile, pointOf, sumSamples } from '../../src/monitor/stats-points.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';

describe('bucketQuantile', () => {
  const bounds = [1, 2, 4];
  test('interpolates inside the bucket that holds the rank', () => {
    // 10 observations in (1, 2]: the median is half-way through that bucket.
    assert.equal(bucketQuantile(0.5, { bounds, counts: [0, 10, 0, 0] }), 1.5);
    // 4 in [0, 1], 4 in (1, 2], 2 in (2, 4]: rank 9 of 10 is the first half of (2, 4].
    assert.equal(bucketQuantile(0.9, { bounds, counts: [4, 4, 2, 0] }), 3);
    assert.equal(bucketQuantile(0.2, { bounds, counts: [4, 4, 2, 0] }), 0.5);
  });
  test('answers the highest bound in the +Inf bucket, and null without observations', () => {
    assert.equal(bucketQuantile(0.99, { bounds, counts: [1, 0, 0, 9] }), 4);
    assert.equal(bucketQuantile(0.5, { bounds, counts: [0, 0, 0, 0] }), null);
  });
});

describe('the sampler', () => {
  test('keeps what changed between samples per version, bounded, and survives a reset', async (t) => {
    const metrics = createServingMetrics();
    let clock = 1_000_000;
    const stats = createServingStats({ registry: metrics.registry, intervalMs: 0, capacity: 3, now: () => clock });
    t.after(() => stats.close());
    const v1 = metrics.forVersion('iris', '1');
    const v2 = metrics.forVersion('iris', '2');
    for (let i = 0; i < 10; i++) v1.success('rest', 0.003);
    v1.failure('rest', 'BAD_REQUEST');
    v1.failure('grpc', 'BAD_REQUEST');
    for (let i = 0; i < 4; i++) v2.success('grpc', 0.2);
    metrics.failure({ model: 'iris', protocol: 'rest', reason: 'MODEL_NOT_FOUND' });
    clock += 2000;
    await stats.sample();

    const [first, second] = stats.forModel('iris');
    assert.equal(first?.version, '1');
    assert.equal(second?.version, '2');
    assert.equal(stats.forModel('other').length, 0);
    const point = pointOf(first?.samples[0] as never, stats.bounds());
    assert.equal(point.requests, 12);
    assert.equal(point.requestsPerSecond, 6);
    assert.equal(point.errorRate, 2 / 12);
    // Every success took 3 ms: the bucket (2.5 ms, 5 ms] holds them all.
    assertClose(point.p50Ms as number, 2.5 + 2.5 * 0.5, { atol: 1e-9 });
    assertClose(point.p99Ms as number, 2.5 + 2.5 * 0.99, { atol: 1e-9 });

    // Both versions summed: a deployment's traffic.
    const total = pointOf(sumSamples([first?.samples ?? [], second?.samples ?? []])[0] as never, stats.bounds());
    assert.equal(total.requests, 16);
    assert.equal(total.errorRate, 2 / 16);
    // 10 of 14 successes at 3 ms, 4 at 200 ms: the p99 is in (100 ms, 250 ms].
    assert.ok((total.p99Ms as number) > 100 && (total.p99Ms as number) <= 250, `p99 ${total.p99Ms}`);

    // Nothing new: a point with no requests, no error rate, no latency.
    clock += 5000;
    await stats.sample();
    const idle = pointOf(stats.forModel('iris')[0]?.samples[1] as never, stats.bounds());
    assert.deepEqual(idle, { at: clock, requests: 0, requestsPerSecond: 0, errorRate: null, p50Ms: null, p99Ms: null });

    // The ring keeps the last `capacity` samples.
    for (let i = 0; i < 3; i++) {
      clock += 1000;
      v1.success('rest', 0.003);
      await stats.sample();
    }
    const kept = stats.forModel('iris')[0]?.samples ?? [];
    assert.equal(kept.length, 3);
    assert.deepEqual(
      kept.map((s) => s.ok),
      [1, 1, 1],
    );

    // A reset registry (counters back to zero) counts from zero again rather than going negative.
    metrics.registry.resetMetrics();
    v1.success('rest', 0.003);
    clock += 1000;
    await stats.sample();
    assert.equal(stats.forModel('iris')[0]?.samples.at(-1)?.ok, 1);
  });
});

test('the stats route: a deployment over time, by version and in total', { timeout: 300_000 }, async (t) => {
  const server = await startRegistryServer(t);
  for (const bytes of [FIXTURES.mlp.build(), buildMlp({ seed: 7 })]) {
    assert.equal((await api(server, { url: '/api/v1/models/mlp/versions', body: bytes })).status, 201);
  }
  const created = await api(server, {
    url: '/api/v1/deployments',
    body: {
      name: 'mlp',
      routes: [
        { version: 1, weight: 50 },
        { version: 2, weight: 50 },
      ],
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await server.deployments?.sync();

  const request = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }] };
  const answeredBy = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const reply = await api(server, { url: '/v2/models/mlp/infer', body: request });
    assert.equal(reply.status, 200);
    const version = String(reply.json.model_version);
    answeredBy.set(version, (answeredBy.get(version) ?? 0) + 1);
  }
  const bad = await api(server, {
    url: '/v2/models/mlp/infer',
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
  });
  assert.equal(bad.status, 400);
  await server.stats.sample();

  const reply = await api(server, { url: '/api/v1/deployments/mlp/stats' });
  assert.equal(reply.status, 200);
  const body = reply.json as {
    deployment: string;
    intervalMs: number;
    total: { requests: number; errorRate: number | null; p50Ms: number | null; p99Ms: number | null }[];
    versions: { version: string; points: { requests: number }[] }[];
  };
  assert.equal(body.deployment, 'mlp');
  assert.equal(body.intervalMs, 5000);
  const sum = (points: readonly { requests: number }[]) => points.reduce((n, p) => n + p.requests, 0);
  for (const version of body.versions) {
    const answered = answeredBy.get(version.version) ?? 0;
    // The bad request failed on whichever version it was routed to.
    assert.ok(
      sum(version.points) === answered || sum(version.points) === answered + 1,
      `v${version.version}: ${sum(version.points)} requests, ${answered} answered`,
    );
  }
  assert.equal(sum(body.total), 31);
  const failed = body.total.reduce((n, p) => n + (p.errorRate ?? 0) * p.requests, 0);
  assertClose(failed, 1, { atol: 1e-9 });
  const last = body.total.find((p) => p.p50Ms !== null);
  assert.ok(last !== undefined && (last.p50Ms as number) > 0 && (last.p50Ms as number) <= (last.p99Ms as number));

  const missing = await api(server, { url: '/api/v1/deployments/nope/stats' });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'DEPLOYMENT_NOT_FOUND');
});
