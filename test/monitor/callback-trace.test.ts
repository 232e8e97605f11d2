// An outgoing callback carries the trace context of its client span (W3C traceparent out).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { deliverCallback } from '../../src/jobs/callback-delivery.ts';
import { createTracing } from '../../src/monitor/tracing.ts';
import { createCallbackHostPolicy } from '../../src/jobs/callback-host-policy.ts';
import { inMemoryTracing } from './in-memory-tracing.ts';

test('a callback delivery sends the traceparent of its client span', async (t) => {
  const seen: (string | undefined)[] = [];
  const receiver = createServer((req, res) => {
    seen.push(req.headers.traceparent as string | undefined);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const address = receiver.address();
  assert.ok(typeof address === 'object' && address !== null);
  const { tracing, exporter } = inMemoryTracing(t, 1, 'test');
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const outgoing = tracing.startOutgoing({ name: 'POST callback', parent });
  const status = await deliverCallback({
    url: `http://127.0.0.1:${address.port}/hook`,
    body: '{}',
    timestamp: Date.now(),
    secret: 'a-secret-of-sixteen-chars',
    timeoutMs: 10_000,
    headers: outgoing.headers,
    hosts: createCallbackHostPolicy({ allowedHosts: ['127.0.0.1'] }),
  });
  outgoing.trace.end();
  assert.equal(status, 204);
  const [span] = exporter.getFinishedSpans();
  assert.ok(span !== undefined);
  assert.equal(span.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(span.parentSpanContext?.spanId, 'b7ad6b7169203331');
  assert.equal(seen[0], `00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`);
});

test('tracing off: createTracing makes nothing', () => {
  assert.equal(
    createTracing({ settings: { enabled: false, sampleRate: 1, serviceName: 's' }, version: 'x' }),
    undefined,
  );
});
