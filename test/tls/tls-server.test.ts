/**
 * TLS on a real server: HTTPS inference with the CA, plain HTTP refused on the TLS port, a replaced
 * certificate served after reload on both ports (a bad pair keeps the old one), mutual TLS, gRPC
 * over TLS, and start-up refused with CONFIG_INVALID naming the bad file. Certificates are made by
 * openssl in the test; every wait is for a state (the fingerprint a new connection sees, a log line).
 */
import assert from 'node:assert/strict';
import { copyFile, rename, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';
import { loadConfig } from '../../src/config/index.ts';
import { StratumError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startServer } from '../../src/server/stratum-server.ts';
import { mlpRequest } from '../api/http/http-test-kit.ts';
import { createTestCa, type TestCa } from '../helpers/test-certificates.ts';
import { startTestServer } from '../helpers/test-server.ts';
import { httpsJson, servedFingerprint } from '../helpers/tls-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Log lines written by a server, parsed. */
function captureLogs(): { stream: PassThrough; lines: Record<string, unknown>[] } {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  return { stream, lines };
}

/** Replaces a file the way a rotation does: written beside it, then renamed over it. */
async function replaceFile(target: string, content: Buffer | string): Promise<void> {
  const temp = `${target}.new`;
  await writeFile(temp, content);
  await rename(temp, target);
}

/** The served pair lives in files of its own, so issuing another certificate does not touch them. */
async function servedFiles(ca: TestCa): Promise<{ certFile: string; keyFile: string; fingerprint: string }> {
  const first = await ca.issueServer('server-1');
  const certFile = join(ca.dir, 'served.crt');
  const keyFile = join(ca.dir, 'served.key');
  await copyFile(first.certFile, certFile);
  await copyFile(first.keyFile, keyFile);
  return { certFile, keyFile, fingerprint: first.fingerprint };
}

function grpcClient(port: number, credentials: grpc.ChannelCredentials): grpc.Client & Record<string, unknown> {
  const proto = loadInferenceProto();
  const Client = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  return new Client(`localhost:${port}`, credentials) as grpc.Client & Record<string, unknown>;
}

function serverLive(client: grpc.Client & Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 30_000);
    // (request, metadata, options, callback): the form that takes a deadline.
    const fn = client['ServerLive'] as (...args: unknown[]) => void;
    const done = (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res));
    fn.call(client, {}, new grpc.Metadata(), { deadline }, done);
  });
}

test('HTTPS: inference works with the CA; plain HTTP to the TLS port gets no answer', async (t) => {
  const ca = await createTestCa(t);
  const served = await servedFiles(ca);
  const server = await startTestServer(t, {
    withoutGrpc: true,
    overrides: { tls: { certFile: served.certFile, keyFile: served.keyFile } },
  });
  assert.match(server.httpUrl, /^https:\/\//);
  const res = await httpsJson(`${server.httpUrl}/v2/models/mlp/infer`, { ca: ca.ca, body: mlpRequest(2) });
  assert.equal(res.status, 200);
  assert.deepEqual((res.json as { outputs: { shape: number[] }[] }).outputs[0]?.shape, [2, 10]);
  assert.equal(await servedFingerprint(server.httpPort), served.fingerprint);

  // Without the CA the certificate is not trusted.
  await assert.rejects(httpsJson(`${server.httpUrl}/v2/health/live`, {}), /self[- ]signed|unable to (get|verify)/i);
  // Plain HTTP: the TLS server cannot parse it as a handshake and drops the connection.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const req = httpRequest(`http://127.0.0.1:${server.httpPort}/v2/health/live`, { agent: false }, resolve);
      req.on('error', reject);
      req.end();
    }),
    (error: NodeJS.ErrnoException) =>
      ['ECONNRESET', 'EPIPE'].includes(error.code ?? '') || /hang up/.test(error.message),
  );
});

test('reload: a replaced certificate is served on new HTTP and gRPC connections; a bad pair keeps the old one', async (t) => {
  const ca = await createTestCa(t);
  const served = await servedFiles(ca);
  const logs = captureLogs();
  const server = await startTestServer(t, {
    logDestination: logs.stream,
    overrides: { logLevel: 'info', tls: { certFile: served.certFile, keyFile: served.keyFile } },
  });
  assert.equal(await servedFingerprint(server.httpPort), served.fingerprint);
  assert.equal(await servedFingerprint(server.grpcPort, ['h2']), served.fingerprint);
  // A connection opened before the reload, to show what happens to it.
  const client = grpcClient(server.grpcPort, grpc.credentials.createSsl(ca.ca));
  t.after(() => client.close());
  assert.deepEqual(await serverLive(client), { live: true });

  const second = await ca.issueServer('server-2');
  // The key first, then the certificate: in between the files are not a pair.
  await replaceFile(served.keyFile, second.key);
  await replaceFile(served.certFile, second.cert);
  await waitFor(
    'the new certificate on HTTP',
    async () => (await servedFingerprint(server.httpPort)) === second.fingerprint,
  );
  await waitFor(
    'the new certificate on gRPC',
    async () => (await servedFingerprint(server.grpcPort, ['h2'])) === second.fingerprint,
  );
  const after = await httpsJson(`${server.httpUrl}/v2/models/mlp/infer`, { ca: ca.ca, body: mlpRequest(1) });
  assert.equal(after.status, 200);
  // The open gRPC connection is not interrupted; it keeps its session.
  assert.deepEqual(await serverLive(client), { live: true });
  assert.ok(
    logs.lines.some(
      (l) => l['msg'] === 'TLS certificate reloaded: new connections use it' && l['fingerprint'] === second.fingerprint,
    ),
  );

  // A key that does not belong to the certificate: logged, and the previous pair stays.
  const stranger = await ca.issueServer('stranger');
  await replaceFile(served.keyFile, stranger.key);
  const warning = await waitFor('the bad pair to be logged', () =>
    logs.lines.find(
      (l) => l['msg'] === 'TLS files changed but are not a valid pair: still serving the previous certificate',
    ),
  );
  assert.match(String(warning['reason']), /not the private key of the certificate/);
  assert.equal(warning['serving'], second.fingerprint);
  assert.equal(await servedFingerprint(server.httpPort), second.fingerprint);
  assert.equal(await servedFingerprint(server.grpcPort, ['h2']), second.fingerprint);
  assert.equal((await httpsJson(`${server.httpUrl}/v2/health/live`, { ca: ca.ca })).status, 200);
  // No line carries the key.
  const text = JSON.stringify(logs.lines);
  for (const pair of [second, stranger]) {
    assert.ok(!text.includes(pair.key.toString('utf8').split('\n')[1] as string), 'a key was logged');
  }
});

test('mutual TLS: require refuses a client without a certificate and serves one with', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const clientPair = await ca.issueClient('client');
  const otherCa = await createTestCa(t, 'Other CA');
  const foreign = await otherCa.issueClient('foreign');
  const server = await startTestServer(t, {
    overrides: {
      tls: { certFile: served.certFile, keyFile: served.keyFile, caFile: ca.caFile, clientAuth: 'require' },
    },
  });
  const url = `${server.httpUrl}/v2/models/mlp/infer`;
  const ok = await httpsJson(url, { ca: ca.ca, cert: clientPair.cert, key: clientPair.key, body: mlpRequest(1) });
  assert.equal(ok.status, 200);
  await assert.rejects(httpsJson(url, { ca: ca.ca, body: mlpRequest(1) }));
  await assert.rejects(httpsJson(url, { ca: ca.ca, cert: foreign.cert, key: foreign.key, body: mlpRequest(1) }));

  const withCert = grpcClient(server.grpcPort, grpc.credentials.createSsl(ca.ca, clientPair.key, clientPair.cert));
  t.after(() => withCert.close());
  assert.deepEqual(await serverLive(withCert), { live: true });
  const without = grpcClient(server.grpcPort, grpc.credentials.createSsl(ca.ca));
  t.after(() => without.close());
  await assert.rejects(serverLive(without), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
});

test('mutual TLS: request serves a client with or without a certificate', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const server = await startTestServer(t, {
    withoutGrpc: true,
    overrides: {
      tls: { certFile: served.certFile, keyFile: served.keyFile, caFile: ca.caFile, clientAuth: 'request' },
    },
  });
  assert.equal((await httpsJson(`${server.httpUrl}/v2/health/live`, { ca: ca.ca })).status, 200);
});

test('gRPC over TLS: a client with the CA is served; without it, or in plaintext, it is not', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const server = await startTestServer(t, {
    overrides: { tls: { certFile: served.certFile, keyFile: served.keyFile } },
  });
  const trusted = grpcClient(server.grpcPort, grpc.credentials.createSsl(ca.ca));
  t.after(() => trusted.close());
  assert.deepEqual(await serverLive(trusted), { live: true });
  const untrusted = grpcClient(server.grpcPort, grpc.credentials.createSsl());
  t.after(() => untrusted.close());
  await assert.rejects(serverLive(untrusted), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
  const plaintext = grpcClient(server.grpcPort, grpc.credentials.createInsecure());
  t.after(() => plaintext.close());
  await assert.rejects(serverLive(plaintext), (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE);
});

test('start-up is refused with CONFIG_INVALID naming a missing, bad or mismatched file', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const other = await ca.issueServer('other');
  const notPem = join(ca.dir, 'not-a-cert.pem');
  await writeFile(notPem, 'hello');
  const start = (tls: object) =>
    startServer({
      config: loadConfig({
        env: {},
        overrides: {
          httpPort: 0,
          grpcPort: 0,
          registry: false,
          modelsDir: ca.dir,
          logLevel: 'silent',
          runtime: { workers: 1 },
          tls,
        },
      }),
      logger: createLogger({ level: 'silent' }),
    });
  const refused = (includes: string[]) => (error: unknown) => {
    assert.ok(error instanceof StratumError);
    assert.equal(error.code, 'CONFIG_INVALID');
    for (const part of includes) assert.ok(error.message.includes(part), `${error.message} should name ${part}`);
    return true;
  };
  const missing = join(ca.dir, 'missing.crt');
  await assert.rejects(
    start({ certFile: missing, keyFile: served.keyFile }),
    refused(['tls.certFile', missing, 'does not exist']),
  );
  await assert.rejects(
    start({ certFile: notPem, keyFile: served.keyFile }),
    refused(['tls.certFile', notPem, 'not a PEM certificate']),
  );
  await assert.rejects(start({ certFile: served.certFile, keyFile: notPem }), refused(['tls.keyFile', notPem]));
  await assert.rejects(
    start({ certFile: served.certFile, keyFile: other.keyFile }),
    refused(['tls.keyFile', other.keyFile, 'not the private key', served.certFile]),
  );
  await assert.rejects(start({ certFile: served.certFile, keyFile: ca.dir }), refused(['tls.keyFile', 'folder']));
  // The key's contents never appear in the message.
  await assert.rejects(start({ certFile: served.keyFile, keyFile: served.keyFile }), (error: Error) => {
    assert.ok(!error.message.includes(served.key.toString('utf8').split('\n')[1] as string));
    return true;
  });
});

test('settings: TLS needs both files, and client authentication needs a CA', () => {
  const invalid = (tls: object, includes: string) => {
    assert.throws(
      () => loadConfig({ env: {}, overrides: { tls } }),
      (error: StratumError) => error.code === 'CONFIG_INVALID' && error.message.includes(includes),
    );
  };
  invalid({ certFile: 'a.crt' }, 'tls.keyFile');
  invalid({ keyFile: 'a.key' }, 'tls.certFile');
  invalid({ certFile: 'a.crt', keyFile: 'a.key', clientAuth: 'require' }, 'tls.caFile');
  invalid({ certFile: 'a.crt', keyFile: 'a.key', clientAuth: 'sometimes' }, 'tls.clientAuth');
  const config = loadConfig({
    env: {
      STRATUM_TLS_CERT_FILE: 'a.crt',
      STRATUM_TLS_KEY_FILE: 'a.key',
      STRATUM_TLS_CA_FILE: 'ca.crt',
      STRATUM_TLS_CLIENT_AUTH: 'require',
    },
  });
  assert.deepEqual(config.tls, { certFile: 'a.crt', keyFile: 'a.key', caFile: 'ca.crt', clientAuth: 'require' });
});
