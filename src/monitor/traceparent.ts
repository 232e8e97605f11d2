/**
 * The W3C `traceparent` header read by hand, so that a request tracing will not sample costs no
 * OpenTelemetry context, span or regular expression. It accepts and rejects exactly what
 * `W3CTraceContextPropagator.extract` does (an invalid header is treated as absent): the common
 * 55-character form is checked character by character, and anything else (surrounding whitespace,
 * a future version's extra fields) goes to the propagator's own parser, which is rare enough to
 * cost nothing overall.
 */
import { parseTraceParent } from '@opentelemetry/core';

/** A caller's trace context, as `traceparent` names it. */
export interface ParentContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller sampled this trace (flags bit 0). */
  readonly sampled: boolean;
}

const TRACEPARENT_LENGTH = 55;

// Lowercase hex only: the W3C format (and the propagator) reject uppercase.
function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102);
}

/** How many of `value[from, to)` are non-zero hex digits, or -1 when one is not lowercase hex. */
function hexDigits(value: string, from: number, to: number): number {
  let nonZero = 0;
  for (let i = from; i < to; i++) {
    const code = value.charCodeAt(i);
    if (!isHex(code)) return -1;
    if (code !== 48) nonZero++;
  }
  return nonZero;
}

function parseCompact(value: string): ParentContext | undefined {
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return undefined;
  // Version ff is forbidden; every other two-hex version is read the same way.
  if (hexDigits(value, 0, 2) < 0 || value.startsWith('ff')) return undefined;
  // All-zero trace and span ids are invalid.
  if (hexDigits(value, 3, 35) <= 0 || hexDigits(value, 36, 52) <= 0 || hexDigits(value, 53, 55) < 0) return undefined;
  return {
    traceId: value.slice(3, 35),
    spanId: value.slice(36, 52),
    sampled: (parseInt(value.slice(53, 55), 16) & 1) === 1,
  };
}

/**
 * The caller's context from a `traceparent` header value (a repeated header: its first value), or
 * undefined when it is absent or invalid.
 *
 * @example parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 */
export function parseTraceparent(header: string | readonly string[] | undefined): ParentContext | undefined {
  const value = typeof header === 'string' ? header : Array.isArray(header) ? (header[0] as unknown) : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.length === TRACEPARENT_LENGTH) return parseCompact(value);
  const parsed = parseTraceParent(value);
  if (parsed === null) return undefined;
  return { traceId: parsed.traceId, spanId: parsed.spanId, sampled: (parsed.traceFlags & 1) === 1 };
}
