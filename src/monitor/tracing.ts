/**
 * OpenTelemetry tracing (issue 12): a tracer provider of this server's own (never registered
 * globally: no global state, and nothing at all exists when tracing is off), a parent-based ratio
 * sampler (a caller's sampled `traceparent` is followed, new traces are sampled at `sampleRate`),
 * W3C trace-context propagation in and out, and OTLP/HTTP export when an endpoint is set.
 */
import {
  context,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
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
  /** Exports the spans that ended. */
  flush(): Promise<void>;
  /** Flushes and shuts the provider down. Idempotent. */
  close(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

function wrap(tracer: Tracer, span: Span): RequestTrace {
  const ctx = trace.setSpan(ROOT_CONTEXT, span);
  return {
    child(name, attributes) {
      return wrap(tracer, tracer.startSpan(name, attributes === undefined ? {} : { attributes }, ctx));
    },
    record(name, { start, end, attributes }) {
      tracer.startSpan(name, { startTime: start, ...(attributes !== undefined && { attributes }) }, ctx).end(end);
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

function traceparentOf(ctx: Context): string {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent ?? '';
}

/**
 * The server's tracing, or undefined when `settings.enabled` is false: then nothing is created,
 * registered or propagated.
 */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const { settings } = options;
  if (!settings.enabled) return undefined;
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
    spanProcessors,
  });
  const tracer = provider.getTracer('stratum', options.version);
  let closing: Promise<void> | undefined;

  return {
    startRequest({ name, headers, kind, attributes }) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        name,
        {
          kind: kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.SERVER,
          ...(attributes !== undefined && { attributes }),
        },
        parent,
      );
      const traceparent = traceparentOf(trace.setSpan(parent, span));
      // An unsampled span records nothing: its children would be no-ops too, so none are made.
      if (!span.isRecording()) {
        span.end();
        return { trace: undefined, traceparent };
      }
      return { trace: wrap(tracer, span), traceparent };
    },
    startOutgoing({ name, parent, attributes }) {
      const from =
        parent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, { traceparent: parent }, defaultTextMapGetter);
      const span = tracer.startSpan(
        name,
        { kind: SpanKind.CLIENT, ...(attributes !== undefined && { attributes }) },
        from,
      );
      return { trace: wrap(tracer, span), headers: { traceparent: traceparentOf(trace.setSpan(from, span)) } };
    },
    flush: () => provider.forceFlush(),
    close() {
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
