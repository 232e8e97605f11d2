/**
 * OpenTelemetry tracing (issue 12): a tracer provider of this server's own (never registered
 * globally: no global state, and nothing at all exists when tracing is off), a parent-based ratio
 * sampler (a caller's sampled `traceparent` is followed, new traces are sampled at `sampleRate`),
 * W3C trace-context propagation in and out, and OTLP/HTTP export when an endpoint is set. Spans
 * recorded after the fact (a batch's stages, the log's write) are made in bulk off the serving
 * path, and ids come from a pool of random bytes. Requests that are not sampled never reach the SDK.
 */
import {
  context,
  type Context,
  defaultTextMapGetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { RequestTrace, TraceAttributes } from './request-trace.ts';
import { createTraceIdPool, type TraceIdPool } from './trace-ids.ts';
import { parseTraceparent } from './traceparent.ts';
import { traceRatioSampler } from './trace-ratio.ts';

/** The tracing settings (`tracing.*`). */
export interface TracingSettings {
  readonly enabled: boolean;
  readonly otlpEndpoint?: string | undefined;
  readonly sampleRate: number;
  readonly serviceName: string;
}

/** Options of {@link createTracing}. */
export interface TracingOptions {
  readonly settings: TracingSettings;
  /** Stratum's version, for `service.version`. */
  readonly version: string;
  /**
   * Where spans go besides the OTLP endpoint, each span as it ends (tests use an
   * `InMemorySpanExporter`). @default none
   */
  readonly exporter?: SpanExporter;
}

/** Headers (REST) or metadata (gRPC) a trace context is read from or written to. */
export type Carrier = Record<string, string | string[] | undefined>;

/** This server's tracing. */
export interface Tracing {
  /**
   * Starts the server span of an incoming request, continuing the caller's trace when `headers`
   * carry a valid `traceparent`. Returns the span (undefined when it is not sampled) and the
   * `traceparent` to answer with (the span's, sampled or not).
   */
  startRequest(options: {
    name: string;
    headers: Carrier;
    kind?: 'server' | 'consumer';
    attributes?: TraceAttributes;
  }): {
    readonly trace: RequestTrace | undefined;
    readonly traceparent: string;
  };
  /**
   * Starts the span of an outgoing call (a callback delivery) under the trace context of
   * `parent` (a `traceparent`, if any) and returns it with the headers to send.
   */
  startOutgoing(options: { name: string; parent?: string; attributes?: TraceAttributes }): {
    readonly trace: RequestTrace;
    readonly headers: Readonly<Record<string, string>>;
  };
  /** Makes the spans recorded so far and exports the spans that ended. */
  flush(): Promise<void>;
  /** Flushes and shuts the provider down. Idempotent. */
  close(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

// Attributes are set on the started span rather than passed to `startSpan`, which copies and
// checks them twice (for the sampler, whose ratio decision reads only the trace id, and again).
function withAttributes(span: Span, attributes: TraceAttributes | undefined): Span {
  if (attributes !== undefined) span.setAttributes(attributes);
  return span;
}

/** A finished span given to `record`, waiting to be made. */
interface RecordedSpan {
  readonly parent: Context;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly attributes: TraceAttributes | undefined;
  /** A shared span's id, drawn when the sharers linked to it, and its links to them. */
  readonly shared?: { readonly spanId: string; readonly links: Link[] };
}

/** Spans waiting at most; past this, `record` makes them at once rather than hold more. */
const MAX_RECORDED = 4096;

/**
 * Makes the spans `record` is given in bulk, on a later turn of the event loop. A batch's stages
 * (queue, runtime) are recorded for each of its requests between onnxruntime's answer and the
 * next batch's dispatch: made there, at 3–7 µs a span (measured in-process), a batch of 64
 * traced requests held the next run back by several hundred microseconds. Their times are known already; only the span objects wait.
 */
function spanRecorder(tracer: Tracer, ids: TraceIdPool): { add(span: RecordedSpan): void; drain(): void } {
  let waiting: RecordedSpan[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  function drain(): void {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const spans = waiting;
    waiting = [];
    for (const { parent, name, start, end, attributes, shared } of spans) {
      if (shared === undefined) {
        withAttributes(tracer.startSpan(name, { startTime: start }, parent), attributes).end(end);
        continue;
      }
      ids.nextSpanId = shared.spanId;
      const span = tracer.startSpan(name, { startTime: start, links: shared.links }, parent);
      ids.nextSpanId = undefined;
      withAttributes(span, attributes).end(end);
    }
  }
  return {
    add(span) {
      waiting.push(span);
      if (waiting.length >= MAX_RECORDED) drain();
      else scheduled ??= setImmediate(drain);
    },
    drain,
  };
}

/** What every span of one `Tracing` shares: the tracer, the deferred spans and the ids. */
interface SpanScope {
  readonly tracer: Tracer;
  readonly recorded: ReturnType<typeof spanRecorder>;
  readonly ids: TraceIdPool;
}

/** Where a wrapped span keeps its SDK span, for `recordShared` to link sharers (not part of `RequestTrace`). */
const SDK_SPAN = Symbol('sdkSpan');

/** A `RequestTrace` made by {@link wrap}. */
interface WrappedTrace extends RequestTrace {
  readonly [SDK_SPAN]: Span;
}

function wrap(scope: SpanScope, span: Span): WrappedTrace {
  const { tracer, recorded, ids } = scope;
  const parent = trace.setSpan(ROOT_CONTEXT, span);
  return {
    [SDK_SPAN]: span,
    child(name, attributes) {
      return wrap(scope, withAttributes(tracer.startSpan(name, {}, parent), attributes));
    },
    record(name, { start, end, attributes }) {
      recorded.add({ parent, name, start, end, attributes });
    },
    recordShared(name, { start, end, attributes }, sharers) {
      // The shared span is made later, but its sharers must link to it while they are still open:
      // its span id is drawn now and handed to the SDK when it is made.
      const spanId = ids.spanId();
      const to: SpanContext = { traceId: span.spanContext().traceId, spanId, traceFlags: TraceFlags.SAMPLED };
      const links: Link[] = [];
      for (const sharer of sharers) {
        const other = (sharer as Partial<WrappedTrace>)[SDK_SPAN];
        if (other === undefined || other === span) continue;
        other.addLink({ context: to });
        links.push({ context: other.spanContext() });
      }
      recorded.add({ parent, name, start, end, attributes, shared: { spanId, links } });
    },
    setAttributes(attributes) {
      span.setAttributes(attributes);
    },
    end(error) {
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        if (error instanceof Error) span.recordException(error);
      }
      span.end();
    },
  };
}

/** The W3C `traceparent` of a span (what the propagator's `inject` writes, without its carrier). */
function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
}

/**
 * The server's tracing, or undefined when `settings.enabled` is false: then nothing is created,
 * registered or propagated.
 */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const { settings } = options;
  if (!settings.enabled) return undefined;
  const ids = createTraceIdPool();
  const sampleNewTrace = traceRatioSampler(settings.sampleRate);
  const spanProcessors = [];
  if (settings.otlpEndpoint !== undefined) {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.otlpEndpoint })));
  }
  if (options.exporter !== undefined) spanProcessors.push(new SimpleSpanProcessor(options.exporter));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRate) }),
    idGenerator: ids,
    spanProcessors,
  });
  const tracer = provider.getTracer('stratum', options.version);
  const recorded = spanRecorder(tracer, ids);
  const scope: SpanScope = { tracer, recorded, ids };
  let closing: Promise<void> | undefined;

  return {
    startRequest({ name, headers, kind, attributes }) {
      // Sampling is decided here, before the SDK: a request that is not sampled (99 in 100 at a 1%
      // rate) gets its reply's traceparent and nothing else (no context, no span object). The
      // decision is the SDK's own (parent-based, then the trace-id ratio), so a sampled request
      // is recorded by the SDK exactly as before.
      const header = headers['traceparent'];
      const caller = header === undefined ? undefined : parseTraceparent(header);
      const traceId = caller === undefined ? ids.traceId() : caller.traceId;
      if (!(caller === undefined ? sampleNewTrace(traceId) : caller.sampled)) {
        return { trace: undefined, traceparent: `00-${traceId}-${ids.spanId()}-00` };
      }
      let parent = ROOT_CONTEXT;
      if (caller === undefined) ids.nextTraceId = traceId;
      else parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan(name, { kind: kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.SERVER }, parent);
      ids.nextTraceId = undefined;
      const traceparent = traceparentOf(span.spanContext());
      if (!span.isRecording()) {
        span.end();
        return { trace: undefined, traceparent };
      }
      return { trace: wrap(scope, withAttributes(span, attributes)), traceparent };
    },
    startOutgoing({ name, parent, attributes }) {
      const from =
        parent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, { traceparent: parent }, defaultTextMapGetter);
      const span = withAttributes(tracer.startSpan(name, { kind: SpanKind.CLIENT }, from), attributes);
      return { trace: wrap(scope, span), headers: { traceparent: traceparentOf(span.spanContext()) } };
    },
    flush() {
      recorded.drain();
      return provider.forceFlush();
    },
    close() {
      recorded.drain();
      closing ??= provider.shutdown();
      return closing;
    },
  };
}

/** Whether any tracer provider was registered globally (Stratum never does; tests check it stays so). */
export function globalTracerProviderRegistered(): boolean {
  // With nothing registered, the API's provider hands out non-recording spans.
  const span = trace.getTracer('stratum-probe').startSpan('probe', {}, context.active());
  const recording = span.isRecording();
  span.end();
  return recording;
}
