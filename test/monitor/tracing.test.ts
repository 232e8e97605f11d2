// OpenTelemetry traces through a real server: the caller's trace is continued, the expected
// parent/child spans are made (HTTP → inference → batcher queue and runtime → inference log
// write), spans reach an OTLP receiver, and with tracing off nothing is created or propagated.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';
import { type ConfigInput, loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createTracing, globalTracerProviderRegistered } from '../../src/monitor/tracing.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { startServer, type StratumServer } from '../../src/server/stratum-server.ts';
import { inMemoryTracing } from './in-memory-tracing.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

async function start(
  t: TestContext,
  overrides: ConfigInput & { withGrpc?: boolean },
  exporter?: InMemorySpanExporter,
): Promise<StratumServer> {
  const { withGrpc, ...settings } = overrides;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-tracing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFixtureRepository({ dir: join(dir, 'models'), only: ['mlp'] });
  const config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      grpcPort: 0,
      watch: false,
      logLevel: 'silent',
      runtime: { workers: 1 },
      registry: false,
      modelsDir: join(dir, 'models'),
      databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
      ...settings,
    },
  });
  const server = await startServer({
    config,
    logger: createLogger({ level: 'silent' }),
    withoutGrpc: withGrpc !== true,
    ...(exporter !== undefined && { spanExporter: exporter }),
  });
  t.after(() => server.close());
  return server;
}

async function infer(server: StratumServer, headers: Record<string, string> = {}) {
  const res = await server.http.inject({
    method: 'POST',
    url: '/v2/models/mlp/infer',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.1) }],
    }),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res;
}

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const span = spans.find((s) => s.name === name);
  assert.ok(span !== undefined, `no span ${name} among ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

test("one request yields server → infer → queue/runtime → log write spans in the caller's trace", async (t) => {
  const exporter = new InMemorySpanExporter();
  const server = await start(
    t,
    { tracing: { enabled: true, sampleRate: 0 }, inferenceLog: { sampleRate: 1, flushIntervalMs: 10 } },
    exporter,
  );
  // sampleRate 0 for new traces: the caller's sampled flag is what records this one.
  const res = await infer(server, { traceparent: TRACEPARENT });
  const answered = String(res.headers.traceparent);
  assert.match(answered, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  await server.tracing?.flush();
  // The log write happens after the reply: wait for its span (the writer flushes every 10 ms).
  while (!exporter.getFinishedSpans().some((s) => s.name === 'stratum.inference_log.write')) {
    await new Promise((resolve) => setImmediate(resolve));
    await server.tracing?.flush();
  }
  const spans = exporter.getFinishedSpans();
  for (const span of spans) assert.equal(span.spanContext().traceId, TRACE_ID, span.name);
  const http = byName(spans, 'POST /v2/models/{model}/infer');
  const inferSpan = byName(spans, 'stratum.infer');
  const queue = byName(spans, 'stratum.batcher.queue');
  const run = byName(spans, 'stratum.runtime.run');
  const write = byName(spans, 'stratum.inference_log.write');
  assert.equal(http.parentSpanContext?.spanId, CALLER_SPAN);
  assert.equal(answered.split('-')[2], http.spanContext().spanId, 'the reply names the server span');
  assert.equal(inferSpan.parentSpanContext?.spanId, http.spanContext().spanId);
  for (const child of [queue, run, write])
    assert.equal(child.parentSpanContext?.spanId, inferSpan.spanContext().spanId, child.name);
  assert.equal(run.attributes['stratum.batch.rows'], 1);
  assert.equal(inferSpan.attributes['stratum.version'], '1');
  assert.equal(http.resource.attributes['service.name'], 'stratum');

  // A new trace at sample rate 0: a traceparent goes back (not sampled), and no span is recorded.
  exporter.reset();
  const unsampled = await infer(server);
  assert.match(String(unsampled.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  await server.tracing?.flush();
  assert.deepEqual(
    exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .filter((n) => n !== 'stratum.inference_log.write'),
    [],
  );
});

test('tracing off: no provider, no spans, no traceparent handling', async (t) => {
  const server = await start(t, {});
  assert.equal(server.tracing, undefined);
  const res = await infer(server, { traceparent: TRACEPARENT });
  assert.equal(res.headers.traceparent, undefined, 'nothing is propagated');
  assert.equal(globalTracerProviderRegistered(), false, 'no tracer provider is registered');
});

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  test(`spans are exported over OTLP/HTTP (${protocol}) to the configured endpoint`, async (t) => {
    const bodies: { url: string; type: string; body: Buffer }[] = [];
    let received: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        received();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const address = receiver.address();
    assert.ok(typeof address === 'object' && address !== null);
    const server = await start(t, {
      tracing: {
        enabled: true,
        sampleRate: 1,
        otlpEndpoint: `http://127.0.0.1:${address.port}/v1/traces`,
        otlpProtocol: protocol,
        serviceName: 'stratum-otlp',
      },
    });
    await infer(server, { traceparent: TRACEPARENT });
    await server.tracing?.flush();
    await arrived;
    const [first] = bodies;
    assert.equal(first?.url, '/v1/traces');
    const body = first?.body ?? Buffer.alloc(0);
    if (protocol === 'http/json') {
      assert.match(first?.type ?? '', /application\/json/);
      const json = JSON.parse(body.toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: { traceId: string; name: string }[] }[];
        }[];
      };
      const resource = json.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name');
      assert.equal(resource?.value.stringValue, 'stratum-otlp');
      const spans = json.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      assert.ok(spans.some((s) => s.name === 'stratum.infer'));
      assert.ok(spans.every((s) => s.traceId.toLowerCase() === TRACE_ID));
    } else {
      // Protobuf: the trace id travels as its 16 raw bytes, names and the service as UTF-8.
      assert.match(first?.type ?? '', /application\/x-protobuf/);
      assert.ok(body.includes(Buffer.from(TRACE_ID, 'hex')), 'the trace id is in the export');
      for (const text of ['stratum.infer', 'stratum.batcher.queue', 'stratum-otlp'])
        assert.ok(body.includes(Buffer.from(text)), `${text} is in the export`);
    }
  });
}

test('malformed tracing and inference log settings are rejected with their path', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { tracing: { sampleRate: 2 } } }),
    (error: Error) => /tracing\.sampleRate/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: {}, overrides: { tracing: { otlpEndpoint: 'not a url' } } }),
    (error: Error) => /tracing\.otlpEndpoint/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: {}, overrides: { inferenceLog: { deployments: { fraud: { sampleRate: -1 } } } } }),
    (error: Error) => /inferenceLog\.deployments\.fraud\.sampleRate/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: {}, overrides: { inferenceLog: { redact: { card: 'mask' } } } as never }),
    (error: Error) => /inferenceLog\.redact\.card/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: { STRATUM_TRACING_SAMPLE_RATE: 'often' } }),
    (error: Error) => /tracing\.sampleRate/.test(error.message),
  );
  assert.throws(
    () => loadConfig({ env: { STRATUM_OTLP_PROTOCOL: 'grpc' } }),
    (error: Error) => /tracing\.otlpProtocol/.test(error.message),
  );
  assert.equal(loadConfig({ env: {} }).tracing.otlpProtocol, 'http/protobuf');
  assert.throws(
    () => loadConfig({ env: { STRATUM_TRACING_EXPORT_BATCH_SIZE: '0' } }),
    (error: Error) => /tracing\.exportBatchSize/.test(error.message),
  );
});

test('spans are exported in requests of at most exportBatchSize spans', async (t) => {
  const perRequest: number[] = [];
  const receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
      };
      perRequest.push(json.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const address = receiver.address();
  assert.ok(typeof address === 'object' && address !== null);
  const tracing = createTracing({
    settings: {
      enabled: true,
      sampleRate: 1,
      serviceName: 'stratum',
      otlpEndpoint: `http://127.0.0.1:${address.port}/v1/traces`,
      otlpProtocol: 'http/json',
      exportBatchSize: 2,
    },
    version: '1',
  });
  assert.ok(tracing !== undefined);
  for (let i = 0; i < 5; i++) tracing.startRequest({ name: 'req', headers: {} }).trace?.end();
  await tracing.close();
  assert.deepEqual(
    perRequest.reduce((a, b) => a + b, 0),
    5,
    'every span is exported',
  );
  assert.ok(
    perRequest.every((n) => n <= 2),
    `requests of ${perRequest.join(', ')} spans`,
  );
});

test("a gRPC ModelInfer continues the caller's trace from metadata and answers its traceparent", async (t) => {
  const exporter = new InMemorySpanExporter();
  const server = await start(t, { tracing: { enabled: true, sampleRate: 0 }, withGrpc: true }, exporter);
  const Client = (loadInferenceProto()['inference'] as grpc.GrpcObject)[
    'GRPCInferenceService'
  ] as grpc.ServiceClientConstructor;
  const client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', TRACEPARENT);
  const answered = await new Promise<string>((resolve, reject) => {
    let traceparent = '';
    const call = (client['ModelInfer'] as (...args: unknown[]) => grpc.ClientUnaryCall).call(
      client,
      {
        model_name: 'mlp',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: new Array(784).fill(0.1) } },
        ],
      },
      metadata,
      (error: grpc.ServiceError | null) => (error ? reject(error) : resolve(traceparent)),
    );
    call.on('metadata', (m: grpc.Metadata) => (traceparent = String(m.get('traceparent')[0] ?? '')));
  });
  assert.match(answered, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  await server.tracing?.flush();
  const span = byName(exporter.getFinishedSpans(), 'inference.GRPCInferenceService/ModelInfer');
  assert.equal(span.spanContext().traceId, TRACE_ID);
  assert.equal(span.parentSpanContext?.spanId, CALLER_SPAN);
  assert.equal(answered.split('-')[2], span.spanContext().spanId);
});

test('recorded spans are made off the serving path, in order, and flush makes them at once', async (t) => {
  const { tracing, exporter } = inMemoryTracing(t, 1);
  const started = tracing.startRequest({ name: 'req', headers: {}, attributes: { 'stratum.model': 'mlp' } });
  assert.match(started.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const span = started.trace;
  assert.ok(span !== undefined);
  const now = performance.now();
  span.record('stage.a', { start: now, end: now + 1, attributes: { 'stratum.batch.rows': 2 } });
  span.record('stage.b', { start: now + 1, end: now + 2 });
  assert.deepEqual(exporter.getFinishedSpans(), [], 'nothing is made on the caller’s turn');
  await tracing.flush();
  span.end();
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(
    spans.map((s) => s.name),
    ['stage.a', 'stage.b', 'req'],
  );
  const [a, b, req] = spans;
  assert.equal(a?.attributes['stratum.batch.rows'], 2);
  assert.equal(req?.attributes['stratum.model'], 'mlp');
  for (const child of [a, b]) assert.equal(child?.parentSpanContext?.spanId, req?.spanContext().spanId);
  assert.equal(started.traceparent, `00-${req?.spanContext().traceId}-${req?.spanContext().spanId}-01`);
  // Ids are distinct across many spans (drawn from a pool of random bytes, refilled as it runs out).
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const { traceparent } = tracing.startRequest({ name: 'r', headers: {} });
    ids.add(traceparent.split('-')[2] ?? '');
  }
  assert.equal(ids.size, 1000);
});

test("a batch's run is one span, under the first request's span and linked to and from the others", async (t) => {
  const { tracing, exporter } = inMemoryTracing(t, 1);
  const requests = [0, 1, 2].map(() => tracing.startRequest({ name: 'req', headers: {} }).trace);
  const infers = requests.map((r) => r?.child('stratum.infer'));
  const [a, b, c] = infers;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  const now = performance.now();
  a.recordShared('stratum.runtime.run', { start: now, end: now + 1, attributes: { 'stratum.batch.rows': 3 } }, [
    a,
    b,
    c,
  ]);
  await tracing.flush();
  for (const span of [...infers, ...requests]) span?.end();
  const spans = exporter.getFinishedSpans();
  const runs = spans.filter((s) => s.name === 'stratum.runtime.run');
  assert.equal(runs.length, 1, 'one span for the batch');
  const [run] = runs;
  const inferSpans = spans.filter((s) => s.name === 'stratum.infer');
  assert.equal(inferSpans.length, 3);
  const [first, ...others] = inferSpans;
  assert.equal(run?.parentSpanContext?.spanId, first?.spanContext().spanId);
  assert.equal(run?.spanContext().traceId, first?.spanContext().traceId);
  assert.equal(run?.attributes['stratum.batch.rows'], 3);
  assert.deepEqual(
    run?.links.map((l) => l.context.spanId),
    others.map((s) => s.spanContext().spanId),
    'the batch links to the other requests',
  );
  for (const other of others) {
    assert.deepEqual(
      other.links.map((l) => [l.context.traceId, l.context.spanId]),
      [[run?.spanContext().traceId, run?.spanContext().spanId]],
      'each other request links to the batch',
    );
  }
  assert.deepEqual(first?.links, []);
});
