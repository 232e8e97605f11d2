/**
 * OpenTelemetry tracing (issue 12): spans of this server's own (nothing is registered globally:
 * no global state, and nothing at all exists when tracing is off), sampled as the SDK's
 * parent-based ratio sampler would (a caller's sampled `traceparent` is followed, new traces are
 * sampled at `sampleRate`), W3C trace-context propagation in and out, and OTLP/HTTP export when an
 * endpoint is set. Spans are recorded by `trace-spans.ts` and handed to the SDK's span processors
 * and exporters as they end; stages recorded after the fact (a batch's queue and run, the log's
 * write) reach them on a later turn of the event loop. Ids come from a pool of random bytes.
 * Requests that are not sampled make no span object at all.
 */
import { context, type SpanContext, SpanKind, trace, TraceFlags, type TraceState } from '@opentelemetry/api';
import { TraceState as W3CTraceState } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { RequestTrace, TraceAttributes } from './request-trace.ts';
import { createTraceIdPool } from './trace-ids.ts';
import { createSpanClock } from './span-time.ts';
import { type ParentContext, parseTraceparent } from './traceparent.ts';
import { traceRatioSampler } from './trace-ratio.ts';
import { emitSpan, LiveSpan, type SpanSink } from './trace-spans.ts';

/** The tracing settings (`tracing.*`). */
export interface TracingSettings {
  readonly enabled: boolean;
  readonly otlpEndpoint?: string | undefined;
  /** @default 'http/protobuf' */
  readonly otlpProtocol?: 'http/protobuf' | 'http/json';
  /** Spans held for export at most. @default 16384 */
  readonly exportQueueSize?: number;
  /** Spans per OTLP request. @default 1024 */
  readonly exportBatchSize?: number;
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
  /** Hands the spans recorded so far to the exporters and exports the spans that ended. */
  flush(): Promise<void>;
  /** Flushes and shuts the exporters down. Idempotent. */
  close(): Promise<void>;
}

/** Spans waiting at most; past this, they are handed over at once rather than held. */
const MAX_DEFERRED = 4096;

/**
 * Hands the spans given to it to the processors in bulk, on a later turn of the event loop. A
 * batch's stages (queue, runtime) are recorded for each of its requests between onnxruntime's
 * answer and the next batch's dispatch; an exporter's processor (the in-memory one exports each
 * span at once) should not run there.
 */
function deferredSpans(processors: readonly SpanProcessor[]): { add(span: ReadableSpan): void; drain(): void } {
  let waiting: ReadableSpan[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  function drain(): void {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const spans = waiting;
    waiting = [];
    for (const span of spans) emitSpan({ processors }, span);
  }
  return {
    add(span) {
      waiting.push(span);
      if (waiting.length >= MAX_DEFERRED) drain();
      else scheduled ??= setImmediate(drain);
    },
    drain,
  };
}

/** The W3C `traceparent` of a span (what the propagator's `inject` writes, without its carrier). */
function traceparentOf(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & TraceFlags.SAMPLED}`;
}

/** The span context of the caller a `traceparent` names (and its `tracestate`, when sent). */
function remoteParent(caller: ParentContext, traceState?: TraceState): SpanContext {
  return {
    traceId: caller.traceId,
    spanId: caller.spanId,
    traceFlags: caller.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
    ...(traceState !== undefined && { traceState }),
  };
}

/** The caller's `tracestate`, carried by the spans of its trace (rare: parsed only when sent). */
function traceStateOf(headers: Carrier): TraceState | undefined {
  const header = headers['tracestate'];
  const value = Array.isArray(header) ? header.join(',') : header;
  return value === undefined || value === '' ? undefined : new W3CTraceState(value);
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
  const processors: SpanProcessor[] = [];
  if (settings.otlpEndpoint !== undefined) {
    const url = settings.otlpEndpoint;
    const exporter =
      settings.otlpProtocol === 'http/json'
        ? new OTLPJsonTraceExporter({ url })
        : new OTLPProtobufTraceExporter({ url });
    const maxQueueSize = settings.exportQueueSize ?? 16_384;
    processors.push(
      new BatchSpanProcessor(exporter, {
        maxQueueSize,
        maxExportBatchSize: Math.min(maxQueueSize, settings.exportBatchSize ?? 1024),
      }),
    );
  }
  if (options.exporter !== undefined) processors.push(new SimpleSpanProcessor(options.exporter));
  const deferred = deferredSpans(processors);
  const sink: SpanSink = {
    processors,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    scope: { name: 'stratum', version: options.version },
    ids,
    clock: createSpanClock(),
    defer: (span) => deferred.add(span),
  };
  let closing: Promise<void> | undefined;

  return {
    startRequest({ name, headers, kind, attributes }) {
      // Sampling is decided here: a request that is not sampled (99 in 100 at a 1% rate) gets its
      // reply's traceparent and nothing else. The decision is the SDK's parent-based ratio
      // sampler's: the caller's sampled flag when it sent a valid traceparent, else the new trace
      // id's ratio test.
      const header = headers['traceparent'];
      const caller = header === undefined ? undefined : parseTraceparent(header);
      const traceId = caller === undefined ? ids.traceId() : caller.traceId;
      const spanId = ids.spanId();
      if (!(caller === undefined ? sampleNewTrace(traceId) : caller.sampled)) {
        return { trace: undefined, traceparent: `00-${traceId}-${spanId}-00` };
      }
      const traceState = caller === undefined ? undefined : traceStateOf(headers);
      const span = new LiveSpan(sink, {
        name,
        kind: kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.SERVER,
        context: { traceId, spanId, sampled: true, traceState },
        parent: caller === undefined ? undefined : remoteParent(caller, traceState),
        attributes,
      });
      return { trace: span, traceparent: traceparentOf(span.context) };
    },
    startOutgoing({ name, parent, attributes }) {
      const caller = parent === undefined ? undefined : parseTraceparent(parent);
      const traceId = caller === undefined ? ids.traceId() : caller.traceId;
      const span = new LiveSpan(sink, {
        name,
        kind: SpanKind.CLIENT,
        context: {
          traceId,
          spanId: ids.spanId(),
          sampled: caller === undefined ? sampleNewTrace(traceId) : caller.sampled,
        },
        parent: caller === undefined ? undefined : remoteParent(caller),
        attributes,
      });
      return { trace: span, headers: { traceparent: traceparentOf(span.context) } };
    },
    async flush() {
      deferred.drain();
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    close() {
      closing ??= (async () => {
        deferred.drain();
        await Promise.all(processors.map((p) => p.shutdown()));
      })();
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
