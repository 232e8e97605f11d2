/**
 * Asynchronous inference end to end: a real server over the MLP fixture, consuming a real
 * embedded job queue (SQLite in a temp folder, a unique queue name per test), and a real local
 * HTTP server receiving callbacks. Every wait is for a state (a job's state, a delivery count).
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lookup } from 'node:dns/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { type ConfigInput, loadConfig } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { JobQueue } from '../../../src/queue/job-queue.ts';
import { openJobQueue } from '../../../src/queue/open-job-queue.ts';
import { startServer, type StratumServer } from '../../../src/server/stratum-server.ts';
import { injectJson, writeModelRepository } from '../../helpers/test-server.ts';
import { internalAddressKind } from '../../../src/jobs/callback-host-policy.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { waitForJob } from '../../queue/job-queue-conformance.ts';
import { assertError, type InferReply, injectBinary, mlpRequest, mlpRows } from './http-test-kit.ts';

const SECRET = 'a-test-secret-of-32-characters!!';

/** A server with a job queue of its own: the MLP fixture, asynchronous inference on. */
async function startAsyncServer(
  t: TestContext,
  options: ConfigInput & { modelConfigs?: Record<string, object> } = {},
): Promise<{ server: StratumServer; queue: JobQueue }> {
  const { modelConfigs, ...overrides } = options;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-async-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeModelRepository(join(dir, 'models'), {
    fixtures: ['mlp'],
    ...(modelConfigs !== undefined && { modelConfigs }),
  });
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name: `async-${randomUUID()}`, pollMs: 50 });
  t.after(() => queue.close());
  const config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      watch: false,
      logLevel: 'silent',
      runtime: { workers: 1 },
      registry: false,
      databaseUrl,
      modelsDir: join(dir, 'models'),
      // The receivers below listen on loopback, which callbacks may reach only when allowed.
      callbacks: { allowedHosts: ['127.0.0.1'] },
      ...overrides,
      asyncInference: { callbackBackoffMs: 20, ...overrides.asyncInference },
    },
  });
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }), withoutGrpc: true, queue });
  t.after(() => server.close());
  return { server, queue };
}

/** A local HTTP server recording every callback; `answer` picks each reply's status (1-based delivery). */
async function startReceiver(t: TestContext, answer: (delivery: number) => number = () => 204) {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answer(received.length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook?token=x`;
  return { url, received };
}

/** Submits an infer_async request and checks the 202 reply. */
async function submit(server: StratumServer, body: object, headers: Record<string, string> = {}) {
  const res = await injectJson(server, { url: '/v2/models/mlp/infer_async', body, headers });
  assert.equal(res.status, 202, res.raw.toString('utf8').slice(0, 300));
  const reply = res.json as { id: string; state: string; location: string };
  assert.equal(res.headers['location'], `/api/v1/jobs/${reply.id}`);
  assert.equal(reply.location, res.headers['location']);
  assert.equal(reply.state, 'waiting');
  return reply.id;
}

const signatureOf = (body: string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

test('infer_async: 202 with a Location, and the completed job holds what infer answers', async (t) => {
  const { server, queue } = await startAsyncServer(t);
  const body = { id: 'r-1', ...mlpRequest(3, 5) };
  const id = await submit(server, body);
  const job = await waitForJob(queue, id, (j) => j.state === 'completed');
  assert.equal(job.kind, 'infer-async');
  const sync = await injectJson(server, { url: '/v2/models/mlp/infer', body });
  assert.equal(sync.status, 200);
  assert.deepEqual(job.result, sync.json);
});

test('infer_async: a binary-extension body runs like its JSON twin; a version route works', async (t) => {
  const { server, queue } = await startAsyncServer(t);
  const rows = mlpRows(2, 9);
  const binary = await injectBinary(server, {
    url: '/v2/models/mlp/versions/1/infer_async',
    header: {
      parameters: { binary_data_output: true },
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], parameters: { binary_data_size: 2 * 784 * 4 } }],
    },
    blobs: [new Uint8Array(Float32Array.from(rows).buffer)],
  });
  assert.equal(binary.status, 202, binary.raw.toString('utf8').slice(0, 300));
  const job = await waitForJob(queue, (binary.json as { id: string }).id, (j) => j.state === 'completed');
  const sync = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data: rows }] },
  });
  // A job result is JSON: the binary outputs come back as JSON data.
  assert.deepEqual((job.result as InferReply).outputs, (sync.json as InferReply).outputs);
});

test('infer_async: a bad request is refused at submission and queues nothing', async (t) => {
  const { server, queue } = await startAsyncServer(t, { asyncInference: { maxBodyBytes: 16 * 1024 } });
  const url = '/v2/models/mlp/infer_async';
  const wrongShape = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 783], data: mlpRows(1).slice(0, 783) }] };
  assertError(await injectJson(server, { url, body: wrongShape }), { code: 'INVALID_INPUT', includes: ['input'] });
  assertError(await injectJson(server, { url, body: '{"inputs": [' }), { code: 'INVALID_JSON' });
  assertError(await injectJson(server, { url: '/v2/models/nope/infer_async', body: mlpRequest(1) }), {
    code: 'MODEL_NOT_FOUND',
  });
  assertError(await injectJson(server, { url, body: mlpRequest(4) }), {
    code: 'BODY_TOO_LARGE',
    includes: ['maxBodyBytes'],
  });
  assertError(
    await injectJson(server, { url, body: mlpRequest(1), headers: { 'x-stratum-callback-url': 'ftp://example.com/' } }),
    { code: 'BAD_REQUEST', includes: ['callback.url'] },
  );
  assertError(
    await injectJson(server, {
      url,
      body: mlpRequest(1),
      headers: { 'x-stratum-callback-url': 'http://127.0.0.1:9/' },
    }),
    { code: 'BAD_REQUEST', includes: ['X-Stratum-Callback-Secret'] },
  );
  const counts = await queue.counts();
  assert.equal(counts.waiting + counts.prioritized + counts.active + counts.completed + counts.failed, 0);
});

test('infer_async: an Idempotency-Key resubmission returns the first job', async (t) => {
  const { server } = await startAsyncServer(t);
  const headers = { 'idempotency-key': 'once' };
  const first = await injectJson(server, { url: '/v2/models/mlp/infer_async', body: mlpRequest(1), headers });
  const second = await injectJson(server, { url: '/v2/models/mlp/infer_async', body: mlpRequest(1), headers });
  assert.equal((first.json as { id: string }).id, (second.json as { id: string }).id);
});

test('callback: the outcome is POSTed signed with the request secret, after the job is completed', async (t) => {
  const { server, queue } = await startAsyncServer(t);
  const receiver = await startReceiver(t);
  const id = await submit(server, mlpRequest(1, 2), {
    'x-stratum-callback-url': receiver.url,
    'x-stratum-callback-secret': SECRET,
  });
  await waitFor('the callback', () => receiver.received.length === 1);
  const [delivery] = receiver.received;
  assert.ok(delivery !== undefined);
  assert.equal(delivery.headers['x-stratum-signature'], signatureOf(delivery.body, SECRET));
  const body = JSON.parse(delivery.body) as { id: string; state: string; timestamp: number; result: InferReply };
  assert.equal(body.id, id);
  assert.equal(body.state, 'completed');
  assert.equal(String(body.timestamp), delivery.headers['x-stratum-timestamp']);
  const job = await queue.get(id);
  assert.equal(job.state, 'completed');
  assert.deepEqual(body.result, job.result);
});

test('callback: a 500 is retried with backoff until delivered; the server secret signs when the request has none', async (t) => {
  const serverSecret = 'server-wide-secret-0123456789abcdef';
  const { server, queue } = await startAsyncServer(t, { asyncInference: { callbackSecret: serverSecret } });
  const receiver = await startReceiver(t, (n) => (n === 1 ? 500 : n === 2 ? 429 : 200));
  const id = await submit(server, mlpRequest(1, 4), { 'x-stratum-callback-url': receiver.url });
  await waitFor('the third delivery', () => receiver.received.length === 3);
  for (const delivery of receiver.received) {
    assert.equal(delivery.headers['x-stratum-signature'], signatureOf(delivery.body, serverSecret));
    assert.equal((JSON.parse(delivery.body) as { id: string }).id, id);
  }
  const callbacks = await queue.list({ kind: 'callback', parentId: id });
  assert.equal(callbacks.items.length, 1);
  const callback = await waitForJob(queue, callbacks.items[0]?.id as string, (j) => j.state === 'completed');
  assert.equal(callback.attemptsMade, 3);
});

test('callback: a 4xx answer is not retried, and a failed job calls back with its error', async (t) => {
  const { server, queue } = await startAsyncServer(t, {
    asyncInference: { callbackSecret: SECRET },
    // (Only the signature is checked at submission, so 3 rows pass and the batcher refuses them.)
    modelConfigs: { mlp: { maxBatchSize: 2 } },
  });
  const receiver = await startReceiver(t, () => 410);
  const id = await submit(server, mlpRequest(3), { 'x-stratum-callback-url': receiver.url });
  const failed = await waitForJob(queue, id, (j) => j.state === 'failed');
  assert.equal(failed.error?.code, 'INVALID_INPUT');
  const callbacks = await queue.list({ kind: 'callback', parentId: id });
  const callback = await waitForJob(queue, callbacks.items[0]?.id as string, (j) => j.state === 'failed');
  assert.equal(callback.error?.code, 'CALLBACK_REJECTED');
  assert.equal(callback.attemptsMade, 1);
  assert.equal(receiver.received.length, 1);
  const body = JSON.parse(receiver.received[0]?.body as string) as { state: string; error: { code: string } };
  assert.equal(body.state, 'failed');
  assert.equal(body.error.code, 'INVALID_INPUT');
});

test('callback allow-list: an internal address is refused at submission with a 400 naming callback.url', async (t) => {
  const { server, queue } = await startAsyncServer(t, {
    asyncInference: { callbackSecret: SECRET },
    callbacks: { allowedHosts: [] },
  });
  for (const [url, why] of [
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
    ['http://127.0.0.1:9/hook', '127.0.0.1 is a loopback address'],
    ['http://localhost:9/hook', 'localhost is a loopback name'],
  ] as const) {
    const res = await injectJson(server, {
      url: '/v2/models/mlp/infer_async',
      body: mlpRequest(1),
      headers: { 'x-stratum-callback-url': url },
    });
    assertError(res, { code: 'BAD_REQUEST', includes: ['callback.url', why, 'callbacks.allowedHosts'] });
  }
  const counts = await queue.counts();
  assert.equal(counts.waiting + counts.prioritized + counts.active + counts.completed + counts.failed, 0);
});

test('callback allow-list: a name resolving to an internal address is refused at delivery; the job result stays', async (t) => {
  // The machine's own name resolves to one of its own addresses: loopback, or a private one.
  const name = hostname();
  const resolved = await lookup(name);
  assert.ok(internalAddressKind(resolved.address) !== undefined, `${name} resolves to ${resolved.address}`);
  const { server, queue } = await startAsyncServer(t, {
    asyncInference: { callbackSecret: SECRET },
    callbacks: { allowedHosts: [] },
  });
  const receiver = await startReceiver(t);
  const url = receiver.url.replace('127.0.0.1', name);
  const id = await submit(server, mlpRequest(1, 6), { 'x-stratum-callback-url': url });
  const job = await waitForJob(queue, id, (j) => j.state === 'completed');
  assert.ok(job.result !== undefined);
  const callbacks = await queue.list({ kind: 'callback', parentId: id });
  const callback = await waitForJob(queue, callbacks.items[0]?.id as string, (j) => j.state === 'failed');
  assert.equal(callback.error?.code, 'CALLBACK_REJECTED');
  assert.match(callback.error?.message ?? '', new RegExp(`${name} resolves to .*callbacks\\.allowedHosts`));
  assert.ok(!(callback.error?.message ?? '').includes('token=x'), 'the query is not echoed');
  assert.equal(callback.attemptsMade, 1);
  assert.equal(receiver.received.length, 0);
  assert.equal((await queue.get(id)).state, 'completed');
});
