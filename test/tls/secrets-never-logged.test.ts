/**
 * Secrets never logged: a full run of `stratum serve` as a process — TLS (the CLI's --tls-cert and
 * --tls-key), artifacts encrypted under a master key, a callback secret — at the most verbose log
 * level, with requests that carry `Authorization: Bearer`, `x-api-key` and callback-secret headers
 * over HTTPS and gRPC, failing requests among them, and a training run. Every line it writes and
 * every reply body is then searched for every secret in every form (see secret-forms.ts). New
 * secrets go in the one SECRETS array.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';
import { mlpRequest } from '../api/http/http-test-kit.ts';
import { servingUrl, startCli } from '../helpers/cli-process.ts';
import { leaksIn, type Secret } from '../helpers/secret-forms.ts';
import { createTestCa } from '../helpers/test-certificates.ts';
import { writeModelRepository } from '../helpers/test-server.ts';
import { httpsJson } from '../helpers/tls-client.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { writeTrainingData } from '../jobs/train-fixture.ts';

test('a full run over TLS never writes a key, token or master key to its logs or replies', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const dir = join(ca.dir, 'run');
  await mkdir(dir);
  await writeModelRepository(join(dir, 'models'), { fixtures: ['mlp'] });
  const spec = await writeTrainingData(dir, { name: 'sealed', numTrees: 3, count: 200 });

  const masterKey = randomBytes(32);
  const tlsKeyPem = (await readFile(served.keyFile)).toString('utf8');
  const tlsKeyDer = Buffer.from(
    tlsKeyPem
      .split('\n')
      .filter((l) => !l.startsWith('-----'))
      .join(''),
    'base64',
  );
  const SECRETS: readonly Secret[] = [
    { name: 'master key', text: masterKey.toString('base64'), bytes: masterKey },
    { name: 'TLS private key', text: tlsKeyPem, bytes: tlsKeyDer },
    { name: 'bearer token', text: `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString('base64url')}.sig` },
    { name: 'API key', text: `sk_live_${randomBytes(24).toString('hex')}` },
    { name: 'callback secret (server)', text: `cbs-${randomBytes(18).toString('hex')}` },
    { name: 'callback secret (request)', text: `cbr-${randomBytes(18).toString('hex')}` },
  ];
  const secret = (name: string): string => SECRETS.find((s) => s.name === name)?.text as string;

  const proc = startCli(
    t,
    [
      'serve',
      '--models',
      join(dir, 'models'),
      '--database-url',
      `sqlite:${join(dir, 'stratum.db')}`,
      '--artifacts-url',
      `file:${join(dir, 'artifacts')}`,
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--workers',
      '1',
      '--tls-cert',
      served.certFile,
      '--tls-key',
      served.keyFile,
      '--log-level',
      'trace',
    ],
    {
      STRATUM_MASTER_KEY: secret('master key'),
      STRATUM_CALLBACK_SECRET: secret('callback secret (server)'),
    },
  );
  const url = await servingUrl(proc);
  assert.match(url, /^https:\/\//);
  const credentials = {
    authorization: `Bearer ${secret('bearer token')}`,
    'x-api-key': secret('API key'),
  };
  const replies: unknown[] = [];
  const call = async (path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const reply = await httpsJson(`${url}${path}`, {
      ca: ca.ca,
      ...options,
      headers: { ...credentials, ...options.headers },
    });
    replies.push(reply);
    return reply;
  };

  assert.equal((await call('/v2/models/mlp/infer', { body: mlpRequest(1) })).status, 200);
  // Failing requests: a bad tensor, a malformed body, an unknown model, a bad job, a refused callback.
  assert.equal(
    (
      await call('/v2/models/mlp/infer', {
        body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] },
      })
    ).status,
    400,
  );
  assert.equal((await call('/v2/models/mlp/infer', { body: '{"inputs": [' })).status, 400);
  assert.equal((await call('/v2/models/nope/infer', { body: mlpRequest(1) })).status, 404);
  assert.equal(
    (await call('/api/v1/jobs', { body: { kind: 'train', payload: { spec: { name: 1 }, baseDir: dir } } })).status,
    400,
  );
  const refusedCallback = await call('/v2/models/mlp/infer_async', {
    body: mlpRequest(1),
    headers: {
      'x-stratum-callback-url': 'http://169.254.169.254/latest',
      'x-stratum-callback-secret': secret('callback secret (request)'),
    },
  });
  assert.equal(refusedCallback.status, 400);
  // A callback queued to the machine's own name (it resolves to one of its own addresses): refused at delivery, with the secret in hand.
  const queued = await call('/v2/models/mlp/infer_async', {
    body: mlpRequest(1),
    headers: {
      'x-stratum-callback-url': `http://${hostname()}:9/hook?token=${secret('API key')}`,
      'x-stratum-callback-secret': secret('callback secret (request)'),
    },
  });
  assert.equal(queued.status, 202);
  const asyncJob = (queued.json as { id: string }).id;

  // A training run, its model stored encrypted under the master key.
  const submitted = await call('/api/v1/jobs', { body: { kind: 'train', payload: { spec, baseDir: dir } } });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const trainJob = (submitted.json as { id: string }).id;
  await waitFor('the training run to finish', async () => {
    const job = (await call(`/api/v1/jobs/${trainJob}`)).json as { state: string };
    return ['completed', 'failed'].includes(job.state) && job;
  });
  assert.equal(((await call(`/api/v1/jobs/${trainJob}`)).json as { state: string }).state, 'completed');
  await waitFor(
    'the async job to finish',
    async () => ((await call(`/api/v1/jobs/${asyncJob}`)).json as { state: string }).state === 'completed',
  );
  const callbacks = await call(`/api/v1/jobs?kind=callback&parent=${asyncJob}`);
  const callbackId = (callbacks.json as { items: { id: string }[] }).items[0]?.id;
  assert.ok(callbackId !== undefined, JSON.stringify(callbacks.json));
  await waitFor(
    'the callback to fail',
    async () => ((await call(`/api/v1/jobs/${callbackId}`)).json as { state: string }).state === 'failed',
  );

  // gRPC with the credentials in metadata, one call failing.
  const proto = loadInferenceProto();
  const Client = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  const grpcPort = Number(/"grpcPort":(\d+)/.exec(proc.output())?.[1]);
  const client = new Client(`localhost:${grpcPort}`, grpc.credentials.createSsl(ca.ca));
  t.after(() => client.close());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', credentials.authorization);
  metadata.set('x-api-key', credentials['x-api-key']);
  const unary = (method: string, request: object) =>
    new Promise<unknown>((resolve) => {
      const fn = client[method] as (...args: unknown[]) => void;
      fn.call(client, request, metadata, (error: grpc.ServiceError | null, reply: unknown) => resolve(error ?? reply));
    });
  replies.push(await unary('ModelMetadata', { name: 'mlp' }));
  const failed = (await unary('ModelMetadata', { name: 'nope' })) as grpc.ServiceError;
  assert.equal(failed.code, grpc.status.NOT_FOUND);
  replies.push({ details: failed.details, message: failed.message });

  proc.child.kill('SIGTERM');
  assert.equal(await proc.exited, 0);
  const output = proc.output();
  // The run did log, at trace level, about everything above.
  assert.match(output, /TLS on for HTTP and gRPC/);
  assert.match(output, /callback delivery failed for good/);
  const leaks = [
    ...leaksIn(output, SECRETS).map((l) => `log: ${l}`),
    ...leaksIn(JSON.stringify(replies), SECRETS).map((l) => `reply: ${l}`),
  ];
  assert.deepEqual(leaks, []);
});
