/**
 * Front-end processes (`frontEnds: N`) on a real server: N cluster workers share the HTTP port;
 * inference requests are decoded there and answered by the server over the frame channel,
 * everything else is proxied to the server's own listener. What a client gets must not depend on
 * it: every reply (answers, error replies, headers that matter) is compared byte for byte with
 * the same request sent to the in-process app. Then: a front end that dies is replaced, requests
 * queued in the batcher when the server closes are answered, and the front ends exit with it.
 */
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const FEATURES = 784;

function jsonBody(values: readonly number[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'r-1',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, values.length], data: values }],
    ...extra,
  });
}

function binaryBody(values: readonly number[]): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [1, values.length],
          parameters: { binary_data_size: values.length * 4 },
        },
      ],
      outputs: [{ name: 'logits', parameters: { binary_data: true } }],
    }),
  );
  return { body: Buffer.concat([header, Buffer.from(new Float32Array(values).buffer)]), headerLength: header.length };
}

const row = Array.from({ length: FEATURES }, (_, i) => ((i * 37) % 101) / 101);

/** One request, as both transports take it. */
interface Probe {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

const binary = binaryBody(row);
const PROBES: readonly Probe[] = [
  { name: 'JSON inference', method: 'POST', url: '/v2/models/mlp/infer', body: jsonBody(row) },
  { name: 'on a version', method: 'POST', url: '/v2/models/mlp/versions/1/infer', body: jsonBody(row) },
  {
    name: 'binary extension',
    method: 'POST',
    url: '/v2/models/mlp/infer',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(binary.headerLength),
    },
    body: binary.body,
  },
  { name: 'wrong shape', method: 'POST', url: '/v2/models/mlp/infer', body: jsonBody([1, 2, 3]) },
  { name: 'invalid JSON', method: 'POST', url: '/v2/models/mlp/infer', body: '{"inputs": [' },
  { name: 'empty body', method: 'POST', url: '/v2/models/mlp/infer', body: '' },
  { name: 'unknown model', method: 'POST', url: '/v2/models/nope/infer', body: jsonBody(row) },
  { name: 'unknown version', method: 'POST', url: '/v2/models/mlp/versions/9/infer', body: jsonBody(row) },
  { name: 'bad escape in the URL', method: 'POST', url: '/v2/models/%E0%A4%A/infer', body: jsonBody(row) },
  {
    name: 'bad parameter',
    method: 'POST',
    url: '/v2/models/mlp/infer',
    body: jsonBody(row, { parameters: { priority: -1 } }),
  },
  { name: 'readiness (proxied)', method: 'GET', url: '/v2/health/ready' },
  { name: 'metadata (proxied)', method: 'GET', url: '/v2/models/mlp' },
  { name: 'no route (proxied)', method: 'GET', url: '/v2/nowhere' },
];

async function viaSocket(server: TestServer, probe: Probe) {
  const response = await fetch(`${server.httpUrl}${probe.url}`, {
    method: probe.method,
    headers: { 'content-type': 'application/json', ...probe.headers },
    ...(probe.body !== undefined && { body: probe.body }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    headerLength: response.headers.get('inference-header-content-length'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

async function inProcess(server: TestServer, probe: Probe) {
  const response = await server.http.inject({
    method: probe.method,
    url: probe.url,
    headers: { 'content-type': 'application/json', ...probe.headers },
    ...(probe.body !== undefined && { payload: probe.body }),
  });
  const headerLength = response.headers['inference-header-content-length'];
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type']),
    headerLength: headerLength === undefined ? null : String(headerLength),
    body: response.rawPayload,
  };
}

function frontEndWorkers(): number {
  return Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead()).length;
}

async function frontEndServer(t: TestContext, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  return startTestServer(t, {
    withoutGrpc: true,
    overrides: { frontEnds: 2, bodyLimitBytes: 64 * 1024, ...overrides },
  });
}

test('front ends answer every request as the server itself would, byte for byte', async (t) => {
  const server = await frontEndServer(t);
  assert.equal(frontEndWorkers(), 2, 'two front-end processes run');
  for (const probe of PROBES) {
    const [socket, local] = await Promise.all([viaSocket(server, probe), inProcess(server, probe)]);
    assert.equal(socket.status, local.status, `${probe.name}: status`);
    assert.equal(socket.contentType?.split(';')[0], local.contentType.split(';')[0], `${probe.name}: content type`);
    assert.equal(socket.headerLength, local.headerLength, `${probe.name}: binary header length`);
    assert.deepEqual(socket.body, local.body, `${probe.name}: body`);
  }
  // A body over the limit is refused with the server's own message, and nothing reaches a model.
  const big = await viaSocket(server, {
    name: 'too large',
    method: 'POST',
    url: '/v2/models/mlp/infer',
    body: jsonBody(Array.from({ length: 20_000 }, () => 0.123456789)),
  });
  assert.equal(big.status, 413);
  assert.deepEqual(JSON.parse(big.body.toString()), {
    error: `the request body is over the ${64 * 1024}-byte limit`,
    code: 'BODY_TOO_LARGE',
  });
  // Metrics are the server's: one process counts every front end's requests.
  const metrics = await fetch(`${server.httpUrl}/metrics`).then((r) => r.text());
  assert.match(metrics, /stratum_inference_requests_total\{[^}]*model="mlp"[^}]*\} \d+/);
});

test('many concurrent requests through two front ends all get their own answers', async (t) => {
  const server = await frontEndServer(t);
  const rows = Array.from({ length: 48 }, (_, k) => Array.from({ length: FEATURES }, (_, i) => ((i + k) % 13) / 13));
  const answers = await Promise.all(
    rows.map((values) =>
      fetch(`${server.httpUrl}/v2/models/mlp/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: jsonBody(values),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as { outputs: { data: number[] }[] } })),
    ),
  );
  for (const [k, values] of rows.entries()) {
    const local = await inProcess(server, {
      name: 'row',
      method: 'POST',
      url: '/v2/models/mlp/infer',
      body: jsonBody(values),
    });
    assert.equal(answers[k]?.status, 200);
    assert.deepEqual(
      answers[k]?.json.outputs[0]?.data,
      (JSON.parse(local.body.toString()) as { outputs: { data: number[] }[] }).outputs[0]?.data,
    );
  }
});

test('a front end that dies is replaced, and the port keeps answering', async (t) => {
  const server = await frontEndServer(t);
  const before = new Set(Object.keys(cluster.workers ?? {}));
  const victim = Object.values(cluster.workers ?? {}).find((w) => w !== undefined && !w.isDead());
  assert.ok(victim !== undefined);
  // Connections the cluster hands out in the instant between a crash and the server hearing of it
  // are lost with the process (Node's round-robin hand-off): the client asks again once the
  // replacement listens.
  const exited = once(victim, 'exit');
  const replacement = new Promise<void>((resolve) => {
    const listening = (worker: { id: number }): void => {
      if (before.has(String(worker.id))) return;
      cluster.off('listening', listening);
      resolve();
    };
    cluster.on('listening', listening);
  });
  victim.process.kill('SIGKILL');
  await Promise.all([exited, replacement]);
  assert.equal(frontEndWorkers(), 2, 'two live front ends again');
  for (let i = 0; i < 10; i++) {
    const answer = await viaSocket(server, PROBES[0]!);
    assert.equal(answer.status, 200);
  }
});

test('closing the server answers the requests queued in its batcher, then stops the front ends', async (t) => {
  // A long queue delay holds requests in the batcher until the batch is full or the server closes.
  const server = await startTestServer(t, {
    withoutGrpc: true,
    overrides: { frontEnds: 1 },
    modelConfigs: { mlp: { maxBatchSize: 8, dynamicBatching: { maxQueueDelayMicroseconds: 10_000_000 } } },
  });
  const pending = Array.from({ length: 3 }, () => viaSocket(server, PROBES[0]!));
  const gauge = server.metrics.registry.getSingleMetric('stratum_pending_requests');
  await waitFor(
    'three requests queued',
    async () => ((await gauge?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0) >= 3,
  );
  await server.close();
  const answers = await Promise.all(pending);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200],
  );
  assert.equal(frontEndWorkers(), 0, 'the front ends exited');
});
