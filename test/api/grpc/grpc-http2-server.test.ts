/**
 * The node:http2 gRPC server on its own, with @grpc/grpc-js as the client (any gRPC client must
 * work against it) and a raw node:http2 client where the wire itself is the point: metadata both
 * ways, status codes and messages, unknown methods, the message size limit, gzip-compressed
 * requests, the client's deadline, and a graceful close that lets a call in flight finish.
 */
import assert from 'node:assert/strict';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  createGrpcHttp2Server,
  type GrpcHttp2Server,
  type GrpcReply,
  type GrpcUnaryHandler,
} from '../../../src/api/grpc/grpc-http2-server.ts';
import { encodeGrpcMessage, frameMessage, parseGrpcTimeout, readUnaryFrame } from '../../../src/api/grpc/grpc-wire.ts';

const identity = (b: Buffer): Buffer => b;

async function startServer(
  t: TestContext,
  handlers: Record<string, GrpcUnaryHandler>,
  maxMessageBytes = 1 << 20,
): Promise<{ server: GrpcHttp2Server; port: number }> {
  const server = createGrpcHttp2Server({ handlers: new Map(Object.entries(handlers)), maxMessageBytes });
  t.after(() => server.close(0));
  const port = await server.listen('127.0.0.1', 0);
  return { server, port };
}

function grpcClient(t: TestContext, port: number, options: grpc.ChannelOptions = {}): grpc.Client {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  t.after(() => client.close());
  return client;
}

/** A unary call with grpc-js; resolves with the error or the reply and the initial metadata. */
function unary(
  client: grpc.Client,
  input: { path: string; body: Buffer; metadata?: grpc.Metadata },
): Promise<{ error: grpc.ServiceError | null; reply: Buffer | undefined; headers: grpc.Metadata | undefined }> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    const call = client.makeUnaryRequest(
      input.path,
      identity,
      identity,
      input.body,
      input.metadata ?? new grpc.Metadata(),
      (error, reply) => resolve({ error, reply, headers }),
    );
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
  });
}

test('the wire helpers: frames, grpc-timeout, grpc-message', () => {
  const framed = frameMessage(Buffer.from('hello'));
  assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 0, 5]);
  const frame = readUnaryFrame(framed);
  assert.ok(typeof frame !== 'string');
  assert.equal(frame.message.toString(), 'hello');
  assert.equal(frame.compressed, false);
  assert.equal(readUnaryFrame(Buffer.alloc(0)), 'empty');
  assert.equal(readUnaryFrame(framed.subarray(0, 7)), 'truncated');
  assert.equal(readUnaryFrame(Buffer.concat([framed, framed])), 'trailing');

  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('3S'), 3000);
  assert.equal(parseGrpcTimeout('2H'), 7_200_000);
  assert.equal(parseGrpcTimeout('1500u'), 1.5);
  assert.equal(parseGrpcTimeout('123456789m'), undefined, 'at most 8 digits');
  assert.equal(parseGrpcTimeout('5x'), undefined);
  assert.equal(parseGrpcTimeout(undefined), undefined);

  for (const text of ['plain ASCII', 'input "x": 100% wrong', 'naïve → ünïcode\nnew line', '']) {
    const encoded = encodeGrpcMessage(text);
    assert.match(encoded, /^[\x20-\x7e]*$/);
    assert.equal(decodeURIComponent(encoded), text);
  }
});

test('grpc-js as the client: a reply, metadata both ways, and a status with a non-ASCII message', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const { port } = await startServer(t, {
    '/test.Echo/Echo': (call) => {
      seen.push(call.metadata);
      return {
        status: 0,
        message: Buffer.concat([Buffer.from('echo:'), call.message]),
        metadata: { 'x-answer': '42' },
      };
    },
    '/test.Echo/Fail': () => ({ status: grpc.status.NOT_FOUND, details: 'unknown model "ünï" (100%)' }),
  });
  const client = grpcClient(t, port);
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'Bearer abc');
  metadata.set('x-trace-bin', Buffer.from([1, 2, 3]));
  const ok = await unary(client, { path: '/test.Echo/Echo', body: Buffer.from('ping'), metadata });
  assert.equal(ok.error, null);
  assert.equal(ok.reply?.toString(), 'echo:ping');
  assert.deepEqual(ok.headers?.get('x-answer'), ['42']);
  assert.equal(seen[0]?.['authorization'], 'Bearer abc');
  assert.deepEqual(Buffer.from(String(seen[0]?.['x-trace-bin']), 'base64'), Buffer.from([1, 2, 3]));

  const failed = await unary(client, { path: '/test.Echo/Fail', body: Buffer.alloc(0) });
  assert.equal(failed.error?.code, grpc.status.NOT_FOUND);
  assert.equal(failed.error?.details, 'unknown model "ünï" (100%)');

  const missing = await unary(client, { path: '/test.Echo/Nope', body: Buffer.alloc(0) });
  assert.equal(missing.error?.code, grpc.status.UNIMPLEMENTED);
  assert.match(missing.error?.details ?? '', /\/test\.Echo\/Nope/);
});

test('a handler that throws answers INTERNAL without its message; the server keeps serving', async (t) => {
  const errors: unknown[] = [];
  const server = createGrpcHttp2Server({
    handlers: new Map<string, GrpcUnaryHandler>([
      [
        '/test.Echo/Throw',
        () => {
          throw new Error('secret internals');
        },
      ],
      ['/test.Echo/Echo', (call) => ({ status: 0, message: call.message })],
    ]),
    maxMessageBytes: 1024,
    onError: (error) => errors.push(error),
  });
  t.after(() => server.close(0));
  const client = grpcClient(t, await server.listen('127.0.0.1', 0));
  const thrown = await unary(client, { path: '/test.Echo/Throw', body: Buffer.alloc(0) });
  assert.equal(thrown.error?.code, grpc.status.INTERNAL);
  assert.doesNotMatch(thrown.error?.details ?? '', /secret/);
  assert.equal((errors[0] as Error).message, 'secret internals');
  assert.equal((await unary(client, { path: '/test.Echo/Echo', body: Buffer.from('x') })).reply?.toString(), 'x');
});

test('messages over the limit are refused with RESOURCE_EXHAUSTED; gzip-compressed requests are read', async (t) => {
  const { port } = await startServer(
    t,
    { '/test.Echo/Length': (call) => ({ status: 0, message: Buffer.from(String(call.message.length)) }) },
    4096,
  );
  const client = grpcClient(t, port);
  const large = await unary(client, { path: '/test.Echo/Length', body: Buffer.alloc(5000, 1) });
  assert.equal(large.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(large.error?.details ?? '', /limit of 4096 bytes/);
  assert.equal(
    (await unary(client, { path: '/test.Echo/Length', body: Buffer.alloc(4096) })).reply?.toString(),
    '4096',
  );

  // grpc-js compresses what it sends with the channel's default algorithm (2: gzip).
  const gzipClient = grpcClient(t, port, { 'grpc.default_compression_algorithm': 2 });
  const compressed = await unary(gzipClient, { path: '/test.Echo/Length', body: Buffer.alloc(3000, 7) });
  assert.equal(compressed.error, null);
  assert.equal(compressed.reply?.toString(), '3000');
  // A small message that decompresses past the limit is refused too.
  const bomb = await unary(gzipClient, { path: '/test.Echo/Length', body: Buffer.alloc(100_000) });
  assert.equal(bomb.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(bomb.error?.details ?? '', /decompressed request message larger/, 'it did travel compressed');
});

test('the client deadline (grpc-timeout) ends a call with DEADLINE_EXCEEDED in trailers', async (t) => {
  let release: (reply: GrpcReply) => void = () => undefined;
  const { port } = await startServer(t, {
    '/test.Echo/Slow': () => new Promise<GrpcReply>((resolve) => (release = resolve)),
  });
  const session = connect(`http://127.0.0.1:${port}`);
  t.after(() => session.close());
  const stream = session.request({
    ':method': 'POST',
    ':path': '/test.Echo/Slow',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '20m',
  });
  stream.end(frameMessage(Buffer.from('x')));
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  assert.equal(headers[':status'], 200);
  assert.equal(headers['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED));
  stream.resume();
  await once(stream, 'close');
  // The handler's late answer goes nowhere and breaks nothing.
  release({ status: 0, message: Buffer.from('late') });
});

test('a request that is not gRPC gets an HTTP status, not a gRPC one', async (t) => {
  const { port } = await startServer(t, { '/test.Echo/Echo': (call) => ({ status: 0, message: call.message }) });
  const session = connect(`http://127.0.0.1:${port}`);
  t.after(() => session.close());
  const get = session.request({ ':method': 'GET', ':path': '/test.Echo/Echo' });
  assert.equal(((await once(get, 'response')) as [IncomingHttpHeaders])[0][':status'], 405);
  get.resume();
  const json = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/json' });
  json.end('{}');
  assert.equal(((await once(json, 'response')) as [IncomingHttpHeaders])[0][':status'], 415);
  json.resume();
});

test('close() lets a call in flight finish, then refuses new connections', async (t) => {
  let started: () => void = () => undefined;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  let release: (reply: GrpcReply) => void = () => undefined;
  const { server, port } = await startServer(t, {
    '/test.Echo/Slow': () => {
      started();
      return new Promise<GrpcReply>((resolve) => (release = resolve));
    },
  });
  const client = grpcClient(t, port);
  const call = unary(client, { path: '/test.Echo/Slow', body: Buffer.from('x') });
  await inFlight;
  const closed = server.close(30_000);
  release({ status: 0, message: Buffer.from('finished') });
  const done = await call;
  assert.equal(done.error, null);
  assert.equal(done.reply?.toString(), 'finished');
  await closed;
  const late = grpcClient(t, port);
  const refused = await new Promise<grpc.ServiceError | null>((resolve) =>
    late.makeUnaryRequest(
      '/test.Echo/Slow',
      identity,
      identity,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 2000 },
      (error) => resolve(error),
    ),
  );
  assert.ok(refused !== null && [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(refused.code));
});
