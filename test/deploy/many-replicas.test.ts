/**
 * Two real `stratum serve` processes sharing one PostgreSQL schema and one artifact folder: a
 * change made through either reaches the other through LISTEN/NOTIFY. Polling, the safety net,
 * is set to an hour, so a change that arrives at all arrived by notification; the test waits for
 * each change as a state (what the other replica serves) with a generous limit, and reports the
 * times it took without judging them (a busy machine is not a failed change).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createApiClient } from '../../src/client/api-client.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { servingUrl, startCli } from '../helpers/cli-process.ts';
import { freshPostgresUrl } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Longer than the test: no change can reach the other replica by polling. */
const POLL_MS = 3_600_000;

async function startReplica(t: TestContext, env: Record<string, string>): Promise<string> {
  const proc = startCli(
    t,
    ['serve', '--http-port', '0', '--grpc-port', '0', '--workers', '1', '--log-level', 'info'],
    env,
  );
  return servingUrl(proc);
}

/** ms from now until `probe` holds (a generous limit: this is a state, not a performance target). */
async function timeUntil(what: string, probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  await waitFor(what, probe, { everyMs: 20 });
  return performance.now() - start;
}

async function servedVersion(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v2/models/digits/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }],
    }),
  });
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { model_version: string }).model_version;
}

test('two replicas on one PostgreSQL converge on every change through notifications', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-replicas-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    STRATUM_DATABASE_URL: await freshPostgresUrl(t),
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
    STRATUM_REGISTRY_POLL_MS: String(POLL_MS),
  };
  const [a, b] = await Promise.all([startReplica(t, env), startReplica(t, env)]);
  const apiA = createApiClient({ baseUrl: a, actor: 'replica-test' });
  const apiB = createApiClient({ baseUrl: b, actor: 'replica-test' });

  await apiA.pushVersion({ model: 'mlp', bytes: FIXTURES.mlp.build() });
  await apiA.pushVersion({ model: 'mlp', bytes: buildMlp({ seed: 7 }) });
  await apiA.setAlias({ model: 'mlp', alias: 'production', version: 1 });

  // A deployment created through A is served by B.
  await apiA.createDeployment({ name: 'digits', model: 'mlp', routes: [{ alias: 'production', weight: 100 }] });
  const created = await timeUntil('B to serve version 1', async () => (await servedVersion(b)) === '1');

  // An alias moved through B moves what A serves.
  await apiB.setAlias({ model: 'mlp', alias: 'production', version: 2, reason: 'replica test' });
  const moved = await timeUntil('A to serve version 2', async () => (await servedVersion(a)) === '2');

  // A blue-green switch through A reaches B; both then report the same served plan.
  await apiA.rollout({ name: 'digits', request: { strategy: 'blue-green', version: 1 } });
  const switched = await timeUntil('B to serve version 1 again', async () => (await servedVersion(b)) === '1');
  // A applies its own change in the background too: wait for it rather than assume it came first.
  await waitFor('both replicas to report the plan converged', async () => {
    const [statusA, statusB] = await Promise.all([apiA.deploymentStatus('digits'), apiB.deploymentStatus('digits')]);
    return statusA.converged && statusB.converged;
  });
  assert.deepEqual((await apiA.deploymentStatus('digits')).desiredRoutes, [{ version: 1, weight: 100 }]);

  // A deleted deployment disappears from both.
  await apiB.deleteDeployment('digits');
  const deleted = await timeUntil('the deployment to disappear from A', async () => {
    const res = await fetch(`${a}/v2/models/digits`);
    return res.status === 404;
  });

  const figures = { created, moved, switched, deleted };
  t.diagnostic(
    `convergence (ms, includes loading the version): ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
  );
});
