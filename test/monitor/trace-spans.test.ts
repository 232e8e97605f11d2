// Stratum's spans reach the SDK's processors as the SDK's own tracer would have recorded them:
// the same fields for the same calls (server span under a remote parent, a child, an error with
// its exception event, the caller's tracestate), each span handed over once, and nothing for an
// unsampled trace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { inMemoryTracing } from './in-memory-tracing.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const HEADERS = { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'vendor=abc,other=1' };

/** What an exporter reads of a span, without its ids and times (which differ by construction). */
function shape(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    traceFlags: span.spanContext().traceFlags,
    traceState: span.spanContext().traceState?.serialize(),
    parentIsRemote: span.parentSpanContext?.isRemote === true,
    parentTraceState: span.parentSpanContext?.traceState?.serialize(),
    attributes: span.attributes,
    links: span.links.length,
    status: span.status,
    events: span.events.map((e) => ({ name: e.name, keys: Object.keys(e.attributes ?? {}).sort() })),
    resource: span.resource.attributes,
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version },
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
    ended: span.ended,
  };
}

/** The same calls through the SDK's own tracer. */
function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'stratum', 'service.version': '1' }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('stratum', '1');
  const parent = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, HEADERS, defaultTextMapGetter);
  const server = tracer.startSpan('req', { kind: SpanKind.SERVER }, parent);
  server.setAttributes({ 'stratum.model': 'mlp' });
  const child = tracer.startSpan('stratum.infer', {}, trace.setSpan(ROOT_CONTEXT, server));
  child.setAttributes({ 'stratum.version': '1' });
  child.setAttributes({ 'stratum.rows': 2 });
  const error = new TypeError('bad input');
  child.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  child.recordException(error);
  child.end();
  server.end();
  return exporter.getFinishedSpans();
}

test('spans carry what the SDK’s tracer records for the same calls', async (t) => {
  const { tracing, exporter } = inMemoryTracing(t, 0);
  const started = tracing.startRequest({ name: 'req', headers: HEADERS, attributes: { 'stratum.model': 'mlp' } });
  const server = started.trace;
  assert.ok(server !== undefined, "the caller's sampled flag is followed");
  const child = server.child('stratum.infer', { 'stratum.version': '1' });
  child.setAttributes({ 'stratum.rows': 2 });
  child.end(new TypeError('bad input'));
  child.end(new Error('a second end is ignored'));
  server.end();
  await tracing.flush();
  const ours = exporter.getFinishedSpans();
  const theirs = sdkSpans();
  assert.deepEqual(ours.map(shape), theirs.map(shape));
  const [inferSpan, req] = ours;
  assert.ok(inferSpan !== undefined && req !== undefined);
  assert.equal(req.parentSpanContext?.spanId, CALLER_SPAN);
  assert.equal(inferSpan.parentSpanContext?.spanId, req.spanContext().spanId);
  assert.notEqual(inferSpan.spanContext().spanId, req.spanContext().spanId);
  assert.equal(started.traceparent, `00-${TRACE_ID}-${req.spanContext().spanId}-01`);
  for (const span of ours) {
    const [startS, startNs] = span.startTime;
    const [endS, endNs] = span.endTime;
    assert.ok(endS > startS || (endS === startS && endNs >= startNs), `${span.name} ends after it starts`);
    assert.deepEqual(span.duration, [endS - startS + (endNs < startNs ? -1 : 0), (endNs - startNs + 1e9) % 1e9]);
    // Epoch time: within a day of now.
    assert.ok(Math.abs(startS - Date.now() / 1000) < 86_400, `${span.name} starts at an epoch time`);
  }
  // Exception events carry the SDK's attribute names and the error's own text.
  assert.equal(inferSpan.events[0]?.attributes?.['exception.message'], 'bad input');
  assert.equal(inferSpan.events[0]?.attributes?.['exception.type'], 'TypeError');
});

test('an unsampled trace records nothing and still answers a traceparent', async (t) => {
  const { tracing, exporter } = inMemoryTracing(t, 1);
  const unsampledParent = `00-${TRACE_ID}-${CALLER_SPAN}-00`;
  const started = tracing.startRequest({ name: 'req', headers: { traceparent: unsampledParent } });
  assert.equal(started.trace, undefined);
  assert.match(started.traceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  const outgoing = tracing.startOutgoing({ name: 'POST callback', parent: unsampledParent });
  assert.match(outgoing.headers.traceparent ?? '', new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  const now = performance.now();
  outgoing.trace.record('stage', { start: now, end: now + 1 });
  outgoing.trace.child('inner').end();
  outgoing.trace.end();
  await tracing.flush();
  assert.deepEqual(exporter.getFinishedSpans(), []);
  // A sampled outgoing call with no parent starts a trace of its own.
  const root = tracing.startOutgoing({ name: 'POST callback' });
  root.trace.end();
  await tracing.flush();
  const [span] = exporter.getFinishedSpans();
  assert.equal(span?.kind, SpanKind.CLIENT);
  assert.equal(span?.parentSpanContext, undefined);
  assert.equal(root.headers.traceparent, `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`);
  assert.equal(context.active(), ROOT_CONTEXT, 'no context was made active');
});
