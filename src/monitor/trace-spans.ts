/**
 * Spans as Stratum records them: a request's live span is a small object holding its ids, start
 * time and attributes, and when it ends it becomes a `ReadableSpan` — the form the SDK's span
 * processors and exporters (batching, OTLP, in-memory) take — handed straight to those
 * processors. The SDK's tracer is not on this path: its span carries a context map, a clock
 * anchor, limits checks and a sampler call per span, and measured in a loaded server at 100%
 * sampling it cost ≈ 25 µs of event-loop time per request (three spans), most of it garbage
 * collection of objects held for the request's life. Sampling is decided once, per request, in
 * `tracing.ts`, exactly as the SDK's parent-based ratio sampler decides it.
 */
import {
  type Attributes,
  type HrTime,
  type Link,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
  type TraceState,
} from '@opentelemetry/api';
import { hrTimeDuration, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { RecordedTimes, RequestTrace, TraceAttributes } from './request-trace.ts';
import type { SpanClock } from './span-time.ts';
import type { TraceIdPool } from './trace-ids.ts';

/** What every span of one tracing shares: where ended spans go, and what they are stamped with. */
export interface SpanSink {
  readonly processors: readonly SpanProcessor[];
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly ids: TraceIdPool;
  /** `performance.now()` readings as epoch times. */
  readonly clock: SpanClock;
  /** Ended spans that are handed to the processors on a later turn (stages recorded after the fact). */
  defer(span: ReadableSpan): void;
}

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

/** What an ended span is made of. */
interface EndedFields {
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  readonly parent: SpanContext | undefined;
  /** `performance.now()` times. */
  readonly start: number;
  readonly end: number;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly status: SpanStatus;
  readonly events: TimedEvent[];
}

/** An ended span, as the processors read it. */
class EndedSpan implements ReadableSpan {
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly status: SpanStatus;
  readonly events: TimedEvent[];
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly parentSpanContext?: SpanContext;
  private readonly context: SpanContext;

  constructor(sink: SpanSink, fields: EndedFields) {
    this.name = fields.name;
    this.kind = fields.kind;
    this.context = fields.context;
    if (fields.parent !== undefined) this.parentSpanContext = fields.parent;
    this.startTime = sink.clock(fields.start);
    // A clock read twice may go back by a rounding step; a span never ends before it starts.
    this.endTime = sink.clock(Math.max(fields.start, fields.end));
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    this.attributes = fields.attributes;
    this.links = fields.links;
    this.status = fields.status;
    this.events = fields.events;
    this.resource = sink.resource;
    this.instrumentationScope = sink.scope;
  }

  spanContext(): SpanContext {
    return this.context;
  }
}

/** What a live span starts with. */
export interface LiveFields {
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: {
    readonly traceId: string;
    readonly spanId: string;
    readonly sampled: boolean;
    readonly traceState?: TraceState | undefined;
  };
  readonly parent: SpanContext | undefined;
  readonly attributes: TraceAttributes | undefined;
}

function sampled(context: SpanContext): boolean {
  return (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** The `exception` event the SDK's `recordException` adds (semantic conventions' attribute names). */
function exceptionEvent(error: Error, at: HrTime): TimedEvent {
  const attributes: Attributes = { 'exception.type': error.name, 'exception.message': error.message };
  if (error.stack !== undefined) attributes['exception.stacktrace'] = error.stack;
  return { name: 'exception', attributes, time: at, droppedAttributesCount: 0 };
}

/** A span in progress: a request's, or a child of one. Ends once; later `end` calls do nothing. */
export class LiveSpan implements RequestTrace {
  private readonly start = performance.now();
  private readonly name: string;
  private readonly kind: SpanKind;
  private readonly parent: SpanContext | undefined;
  private attributes: Attributes;
  private links: Link[] | undefined;
  private ended = false;
  readonly context: SpanContext;

  constructor(
    private readonly sink: SpanSink,
    { name, kind, context, parent, attributes }: LiveFields,
  ) {
    this.name = name;
    this.kind = kind;
    this.parent = parent;
    this.context = {
      traceId: context.traceId,
      spanId: context.spanId,
      traceFlags: context.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      ...(context.traceState !== undefined && { traceState: context.traceState }),
    };
    // The caller's object is kept, not copied: `setAttributes` copies before it writes.
    this.attributes = attributes ?? {};
  }

  child(name: string, attributes?: TraceAttributes): LiveSpan {
    const { traceId, traceState } = this.context;
    return new LiveSpan(this.sink, {
      name,
      kind: SpanKind.INTERNAL,
      context: { traceId, spanId: this.sink.ids.spanId(), sampled: sampled(this.context), traceState },
      parent: this.context,
      attributes,
    });
  }

  /** Whether this span's trace is sampled and anything reads ended spans. */
  private get recording(): boolean {
    return sampled(this.context) && this.sink.processors.length > 0;
  }

  record(name: string, span: RecordedTimes): void {
    if (!this.recording) return;
    this.recordWith(name, span, { spanId: this.sink.ids.spanId(), links: NO_LINKS });
  }

  recordShared(name: string, span: RecordedTimes, sharers: readonly RequestTrace[]): void {
    if (!this.recording) return;
    // The sharers are still open: each links to the shared span's id now, and it links back.
    const spanId = this.sink.ids.spanId();
    const to: Link = { context: { traceId: this.context.traceId, spanId, traceFlags: this.context.traceFlags } };
    const links: Link[] = [];
    for (const sharer of sharers) {
      if (!(sharer instanceof LiveSpan) || sharer === this) continue;
      (sharer.links ??= []).push(to);
      links.push({ context: sharer.context });
    }
    this.recordWith(name, span, { spanId, links });
  }

  private recordWith(
    name: string,
    { start, end, attributes }: RecordedTimes,
    { spanId, links }: { readonly spanId: string; readonly links: Link[] },
  ): void {
    const { traceId, traceFlags, traceState } = this.context;
    const context: SpanContext = { traceId, spanId, traceFlags, ...(traceState !== undefined && { traceState }) };
    this.sink.defer(
      new EndedSpan(this.sink, {
        name,
        kind: SpanKind.INTERNAL,
        context,
        parent: this.context,
        start,
        end,
        attributes: attributes ?? {},
        links,
        status: UNSET,
        events: NO_EVENTS,
      }),
    );
  }

  setAttributes(attributes: TraceAttributes): void {
    this.attributes = { ...this.attributes, ...attributes };
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.recording) return;
    const end = performance.now();
    let status = UNSET;
    let events = NO_EVENTS;
    if (error !== undefined) {
      status = { code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) };
      if (error instanceof Error) events = [exceptionEvent(error, this.sink.clock(end))];
    }
    emitSpan(
      this.sink,
      new EndedSpan(this.sink, {
        name: this.name,
        kind: this.kind,
        context: this.context,
        parent: this.parent,
        start: this.start,
        end,
        attributes: this.attributes,
        links: this.links ?? [],
        status,
        events,
      }),
    );
  }
}

/** Hands an ended span to every processor (an exporter's processor batches it or exports it). */
export function emitSpan(sink: Pick<SpanSink, 'processors'>, span: ReadableSpan): void {
  for (const processor of sink.processors) processor.onEnd(span);
}
