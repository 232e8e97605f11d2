/**
 * Deployments under live traffic (in-process requests, real onnxruntime, SQLite): A/B routing
 * sticky by key, shadow comparison, blue-green switches without a failed request, and canaries
 * that are promoted, or rolled back by a gate with the reason and the evidence recorded.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeEvent } from '../../src/cli/commands/deployment-text.ts';
import { CanaryEvidenceSchema } from '../../src/deploy/canary-evidence.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { api } from '../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MLP = FIXTURES.mlp.build();
const MLP_OTHER = buildMlp({ seed: 7 });
/** The same answers as MLP, about 5 ms later (more on a busy machine). */
const MLP_SLOW = buildMlp({ busyWork: 8192 });

const image = Array.from({ length: 784 }, (_, i) => Math.sin(i * 0.37));
const request = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: image }] };

async function setup(t: TestContext, versions: Uint8Array[]): Promise<RegistryServer> {
  const server = await startRegistryServer(t, { overrides: { runtime: { workers: 2 } } });
  for (const bytes of versions) {
    const res = await api(server, { url: '/api/v1/models/mlp/versions', body: bytes });
    assert.equal(res.status, 201);
  }
  return server;
}

async function deploy(server: RegistryServer, body: Record<string, unknown>): Promise<void> {
  const res = await api(server, { url: '/api/v1/deployments', body: { name: 'mlp', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  await server.deployments?.sync();
}

async function infer(server: RegistryServer, headers: Record<string, string> = {}) {
  return api(server, { url: '/v2/models/mlp/infer', body: request, headers });
}

/** A reply to the background traffic, and the phase of the test it was sent in. */
interface TrafficReply {
  readonly phase: number;
  readonly status: number;
  readonly version: string | undefined;
}

/**
 * Sends requests from `concurrency` loops until stopped; records every status and served version.
 * `mark()` starts a new phase, so that a test can look at exactly the requests sent after a state
 * it observed (a switch converged), whatever was still in flight from before.
 */
function traffic(server: RegistryServer, concurrency = 4) {
  let running = true;
  let phase = 0;
  const replies: TrafficReply[] = [];
  const errors: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const sentIn = phase;
      const res = await infer(server);
      replies.push({ phase: sentIn, status: res.status, version: res.json.model_version });
      if (res.status !== 200) errors.push(JSON.stringify(res.json));
      await sleep(1);
    }
  });
  return {
    errors,
    /** Versions that answered, in the order of the replies. */
    get versions(): string[] {
      return replies.filter((r) => r.status === 200).map((r) => r.version as string);
    },
    /** Starts a new phase; requests sent from now on belong to it. */
    mark(): number {
      return ++phase;
    },
    /** Waits for `count` replies to requests sent in `since` or a later phase, and returns them. */
    async repliesSince(since: number, count: number): Promise<TrafficReply[]> {
      return waitFor(`${count} replies to requests sent in phase ${since}`, () => {
        const after = replies.filter((r) => r.phase >= since);
        return after.length >= count ? after : undefined;
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Resolves once this replica serves the deployment's desired plan. */
async function converged(server: RegistryServer): Promise<void> {
  await waitFor('convergence', async () => {
    const status = await api(server, { url: '/api/v1/deployments/mlp/status' });
    return status.json.converged === true;
  });
}

async function canaryEnd(server: RegistryServer): Promise<{ status: string; reason?: string }> {
  return waitFor('the canary to end', async () => {
    const res = await api(server, { url: '/api/v1/deployments/mlp' });
    const canary = res.json.state.canary as { status: string; reason?: string } | undefined;
    return canary !== undefined && canary.status !== 'running' ? canary : undefined;
  });
}

test('A/B routes are sticky by a header: a user always sees the same version, users split by weight', async (t) => {
  const server = await setup(t, [MLP, MLP_OTHER]);
  await deploy(server, {
    routes: [
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
    ],
    sticky: { header: 'x-user-id' },
  });
  const seen = new Map<string, Set<string>>();
  for (let user = 0; user < 40; user++) {
    for (let i = 0; i < 3; i++) {
      const res = await infer(server, { 'x-user-id': `user-${user}` });
      assert.equal(res.status, 200);
      const versions = seen.get(`user-${user}`) ?? new Set();
      versions.add(res.json.model_version as string);
      seen.set(`user-${user}`, versions);
    }
  }
  for (const [user, versions] of seen) assert.equal(versions.size, 1, `${user} saw versions ${[...versions]}`);
  const perVersion = [...seen.values()].map((v) => [...v][0]);
  assert.ok(perVersion.includes('1') && perVersion.includes('2'), 'both versions have users');
  // A request parameter works as the key too when the header is absent.
  await api(server, {
    method: 'PUT',
    url: '/api/v1/deployments/mlp',
    body: {
      routes: [
        { version: 1, weight: 50 },
        { version: 2, weight: 50 },
      ],
      sticky: { header: 'x-user-id', parameter: 'user' },
    },
  });
  await server.deployments?.sync();
  const byParameter = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const res = await api(server, { url: '/v2/models/mlp/infer', body: { ...request, parameters: { user: 'carol' } } });
    byParameter.add(res.json.model_version as string);
  }
  assert.equal(byParameter.size, 1);
});

test('a shadow version gets a copy of the traffic; its answers are compared and never returned', async (t) => {
  const server = await setup(t, [MLP, MLP_OTHER]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }], shadow: { version: 2 } });
  for (let i = 0; i < 30; i++) {
    const res = await infer(server);
    assert.equal(res.status, 200);
    assert.equal(res.json.model_version, '1', 'the live version answers');
  }
  const shadow = await waitFor('the shadow comparisons', async () => {
    const status = await api(server, { url: '/api/v1/deployments/mlp/status' });
    const s = status.json.replica.shadow as { copied: number; agreed: number; disagreed: number; failed: number };
    return s.agreed + s.disagreed + s.failed >= 30 ? s : undefined;
  });
  assert.equal(shadow.failed, 0);
  assert.equal(shadow.disagreed, 30, 'differently trained weights disagree on this input');
  const metrics = await server.http.inject({ url: '/metrics' });
  assert.match(metrics.body, /stratum_shadow_requests_total\{deployment="mlp",version="2",outcome="disagree"\} 30/);
});

test('a blue-green switch under load loads and warms the new version first: no request fails', async (t) => {
  const server = await setup(t, [MLP, MLP_OTHER]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  const load = traffic(server);
  await load.repliesSince(0, 20);
  for (const version of [2, 1, 2]) {
    const res = await api(server, {
      url: '/api/v1/deployments/mlp/rollouts',
      body: { strategy: 'blue-green', version },
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    await converged(server);
    // Requests still in flight from before may be answered by the old version; every request
    // sent once the switch has converged is answered by the new one.
    const after = await load.repliesSince(load.mark(), 20);
    assert.deepEqual(
      after.filter((r) => r.version !== String(version)),
      [],
      `every request sent after the switch to version ${version} converged is served by it`,
    );
  }
  await load.stop();
  assert.deepEqual(load.errors, [], 'no request failed');
  const events = await api(server, { url: '/api/v1/deployments/mlp/events' });
  assert.deepEqual(
    events.json.items.map((e: { kind: string }) => e.kind),
    ['blue-green', 'blue-green', 'blue-green', 'created'],
  );
  assert.match(events.json.items[0].message, /from version 1 to version 2/);
  assert.deepEqual(server.deployments?.status('mlp').loadedVersions, [2], 'the old version was unloaded');
});

test('a canary whose outputs agree passes every step and is promoted', async (t) => {
  // The same weights registered twice: a retrain that changed nothing.
  const server = await setup(t, [MLP, MLP]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  const load = traffic(server);
  const res = await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: {
      strategy: 'canary',
      version: 2,
      // Default gates: identical versions under the same load show no evidence of a difference.
      canary: { steps: [25, 100], stepSeconds: 0.2, minRequests: 20, compareRate: 0.5 },
    },
  });
  assert.equal(res.status, 202, JSON.stringify(res.json));
  const end = await canaryEnd(server);
  await load.stop();
  assert.equal(end.status, 'promoted', end.reason);
  assert.deepEqual(load.errors, []);
  assert.ok(load.versions.includes('2') && load.versions.includes('1'), 'both versions served during the canary');
  const events = await api(server, { url: '/api/v1/deployments/mlp/events' });
  const kinds = events.json.items.map((e: { kind: string }) => e.kind);
  assert.deepEqual(kinds, ['canary-promoted', 'canary-step', 'canary-started', 'created']);
  const deployment = await api(server, { url: '/api/v1/deployments/mlp' });
  assert.deepEqual(deployment.json.spec.routes, [{ version: 2, weight: 100 }]);
});

test('a canary that disagrees with the stable version is rolled back automatically, and says why', async (t) => {
  const server = await setup(t, [MLP, MLP_OTHER]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  const load = traffic(server);
  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: {
      strategy: 'canary',
      version: 2,
      canary: { steps: [50, 100], stepSeconds: 5, minRequests: 20, compareRate: 1 },
    },
  });
  const end = await canaryEnd(server);
  await converged(server);
  const after = await load.repliesSince(load.mark(), 20);
  await load.stop();
  assert.equal(end.status, 'rolled_back');
  assert.match(end.reason ?? '', /outputs disagree with the stable version on 100\.0% of \d+ compared requests/);
  assert.deepEqual(load.errors, []);
  assert.deepEqual(
    after.filter((r) => r.version !== '1'),
    [],
    'every request sent once the rollback is served is answered by the stable version',
  );
  const events = await api(server, { url: '/api/v1/deployments/mlp/events?limit=1' });
  assert.equal(events.json.items[0].kind, 'canary-rolled-back');
  assert.match(events.json.items[0].message, /rolled back: outputs disagree/);
  const metrics = await server.http.inject({ url: '/metrics' });
  assert.match(metrics.body, /stratum_rollout_events_total\{deployment="mlp",kind="canary-rolled-back"\} 1/);
});

test('a canary that answers the same, only slower, is rolled back on the latency evidence, shown by the events', async (t) => {
  const server = await setup(t, [MLP, MLP_SLOW]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  const load = traffic(server);
  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: { strategy: 'canary', version: 2, canary: { steps: [50, 100], stepSeconds: 0, minRequests: 40 } },
  });
  const end = await canaryEnd(server);
  await load.stop();
  assert.deepEqual(load.errors, []);
  assert.equal(end.status, 'rolled_back', end.reason);
  assert.match(end.reason ?? '', /^latency: canary \+\d+\.\d\d ms \(\+\d+%\) vs stable .*, on 2 consecutive checks/);
  const events = await api(server, { url: '/api/v1/deployments/mlp/events' });
  const items = events.json.items as { kind: string; message: string; detail: { evidence?: unknown } }[];
  assert.deepEqual(
    items.map((e) => e.kind),
    ['canary-rolled-back', 'canary-check', 'canary-started', 'created'],
  );
  const [rolledBack, firstBreach] = items;
  assert.match(firstBreach?.message ?? '', /canary version 2: step 1\/2 \(50%\) check 1: breach 1 of 2 \(latency\)/);
  for (const [event, check] of [
    [firstBreach, 1],
    [rolledBack, 2],
  ] as const) {
    const evidence = CanaryEvidenceSchema.parse(event?.detail.evidence);
    assert.equal(evidence.check, check);
    assert.equal(evidence.verdict, 'breach');
    assert.ok(evidence.canary.requests >= 40 && (evidence.stable?.requests ?? 0) >= 40);
    const latency = evidence.gates.find((g) => g.gate === 'latency');
    assert.ok(latency?.gate === 'latency' && latency.verdict === 'breach');
    assert.ok(latency.pValue < 0.01 && latency.shiftMs > 1 && latency.shiftRatio > 0.1, JSON.stringify(latency));
    assert.equal(evidence.gates.find((g) => g.gate === 'error-rate')?.verdict, 'pass');
  }
  // `stratum deploy events` shows the evidence under the message, one gate a line.
  const text = describeEvent({ message: rolledBack?.message ?? '', detail: rolledBack?.detail });
  assert.match(
    text,
    /\n {4}canary \d+ req \(0 err, median \d+\.\d\d ms\), stable \d+ req .*; check 2, breach 2 of 2, confidence 0\.99/,
  );
  assert.match(
    text,
    /\n {4}latency: canary \+\d+\.\d\d ms .* Mann–Whitney U = \d+(\.\d)?, z = \d+\.\d\d, p = \S+ — breach/,
  );
  assert.match(text, /\n {4}error rate: canary 0\.0% vs stable 0\.0% .* — pass/);
});

test('a canary step without the traffic to judge it waits, says so, and is aborted at maxWaitSeconds', async (t) => {
  const server = await setup(t, [MLP, MLP]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  // No traffic at all: no check is ever due, so the step can neither pass nor fail.
  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: { strategy: 'canary', version: 2, canary: { steps: [50, 100], stepSeconds: 0.2, maxWaitSeconds: 0.6 } },
  });
  const end = await canaryEnd(server);
  assert.equal(end.status, 'aborted');
  assert.match(
    end.reason ?? '',
    /^step 1\/2 \(50%\) could not be judged within 0\.6 s \(maxWaitSeconds\): canary 0 of 100 requests, stable 0 of 100 for a check$/,
  );
  const events = await api(server, { url: '/api/v1/deployments/mlp/events' });
  const items = events.json.items as { kind: string; message: string; detail: { evidence?: unknown } }[];
  assert.deepEqual(
    items.map((e) => e.kind),
    ['canary-aborted', 'canary-waiting', 'canary-started', 'created'],
  );
  assert.match(items[1]?.message ?? '', /step 1\/2 \(50%\) waiting for traffic: canary 0 of 100 requests/);
  const evidence = CanaryEvidenceSchema.parse(items[0]?.detail.evidence);
  assert.equal(evidence.verdict, 'waiting');
  assert.equal(evidence.check, 0);
  assert.deepEqual(evidence.gates, []);
  const metrics = await server.http.inject({ url: '/metrics' });
  assert.match(metrics.body, /stratum_rollout_events_total\{deployment="mlp",kind="canary-aborted"\} 1/);
});

test('a canary over its latency gate is rolled back; a running canary can be aborted by hand', async (t) => {
  const server = await setup(t, [MLP, MLP]);
  await deploy(server, { routes: [{ version: 1, weight: 100 }] });
  const load = traffic(server);
  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: {
      strategy: 'canary',
      version: 2,
      canary: { steps: [50, 100], stepSeconds: 5, minRequests: 10, compareRate: 0, gates: { maxP99Ms: 0.001 } },
    },
  });
  const end = await canaryEnd(server);
  assert.equal(end.status, 'rolled_back');
  assert.match(end.reason ?? '', /p99 against the gate of 0\.00 ms: (\d+) of \1 requests slower/);

  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: { strategy: 'canary', version: 2, canary: { steps: [10, 100], stepSeconds: 60 } },
  });
  const second = await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: { strategy: 'canary', version: 2 },
  });
  assert.equal(second.status, 409, 'one canary at a time');
  const aborted = await api(server, { url: '/api/v1/deployments/mlp/rollouts/abort', body: { reason: 'wrong build' } });
  assert.equal(aborted.status, 200);
  assert.equal(aborted.json.state.canary.status, 'aborted');
  assert.equal(aborted.json.state.canary.reason, 'wrong build');
  await load.stop();
  assert.deepEqual(load.errors, []);
});

test('a deployment that follows an alias keeps following it: switches and promotions move the alias', async (t) => {
  const server = await setup(t, [MLP, MLP, MLP]);
  await api(server, { method: 'PUT', url: '/api/v1/models/mlp/aliases/production', body: { version: 1 } });
  await deploy(server, { routes: [{ alias: 'production', weight: 100 }] });
  const switched = await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: { strategy: 'blue-green', version: 2, reason: 'hotfix' },
  });
  assert.equal(switched.status, 202);
  assert.deepEqual(switched.json.spec.routes, [{ alias: 'production', weight: 100 }]);
  assert.equal((await api(server, { url: '/api/v1/models/mlp/aliases/production' })).json.version, 2);
  await server.deployments?.sync();
  assert.equal((await infer(server)).json.model_version, '2');

  const load = traffic(server);
  await api(server, {
    url: '/api/v1/deployments/mlp/rollouts',
    body: {
      strategy: 'canary',
      version: 3,
      canary: { steps: [50, 100], stepSeconds: 0.2, minRequests: 20 },
    },
  });
  const end = await canaryEnd(server);
  await load.stop();
  assert.equal(end.status, 'promoted', end.reason);
  assert.deepEqual(load.errors, []);
  const alias = await api(server, { url: '/api/v1/models/mlp/aliases/production/history' });
  assert.deepEqual(
    alias.json.items.map((e: { from: number; to: number; reason: string }) => [e.from, e.to, e.reason]),
    [
      [2, 3, 'canary promoted on deployment "mlp"'],
      [1, 2, 'blue-green switch on deployment "mlp" (hotfix)'],
      [null, 1, ''],
    ],
  );
  const deployment = await api(server, { url: '/api/v1/deployments/mlp' });
  assert.deepEqual(deployment.json.spec.routes, [{ alias: 'production', weight: 100 }]);
  // Moving the alias by hand still moves the deployment.
  await api(server, { method: 'PUT', url: '/api/v1/models/mlp/aliases/production', body: { version: 1 } });
  await server.deployments?.sync();
  assert.equal((await infer(server)).json.model_version, '1');
});
