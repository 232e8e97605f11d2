/**
 * Trace and span ids cut from a pool of random hex, refilled 4 KB at a time: one `randomFillSync`
 * and one hex conversion for hundreds of ids, where the SDK's generator makes a string per id from
 * `Math.random`. The same pool serves the SDK (as its `IdGenerator`) and the unsampled requests,
 * which get ids without any SDK object.
 */
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const ID_POOL_BYTES = 4096;

/**
 * A pool of ids. As the SDK's `IdGenerator` it returns `nextTraceId` / `nextSpanId` when one is
 * set: the trace id a request was already drawn and sampled with, the span id of a deferred span
 * that others already link to, so the SDK's span carries it.
 */
export interface TraceIdPool extends IdGenerator {
  /** A new trace id (32 hex). */
  traceId(): string;
  /** A new span id (16 hex). */
  spanId(): string;
  /** The trace id the SDK's next `generateTraceId` returns instead of drawing one. */
  nextTraceId: string | undefined;
  /** The span id the SDK's next `generateSpanId` returns (a span that others linked to before it was made). */
  nextSpanId: string | undefined;
}

/** A new pool of ids. An all-zero id is invalid (W3C trace context) and drawn again. */
export function createTraceIdPool(): TraceIdPool {
  let hex = '';
  let at = 0;
  const draw = (chars: number): string => {
    for (;;) {
      if (at + chars > hex.length) {
        hex = randomFillSync(Buffer.allocUnsafe(ID_POOL_BYTES)).toString('hex');
        at = 0;
      }
      const id = hex.slice(at, (at += chars));
      if (!/^0+$/.test(id)) return id;
    }
  };
  const pool: TraceIdPool = {
    nextTraceId: undefined,
    nextSpanId: undefined,
    traceId: () => draw(32),
    spanId: () => draw(16),
    generateTraceId() {
      const chosen = pool.nextTraceId;
      if (chosen === undefined) return draw(32);
      pool.nextTraceId = undefined;
      return chosen;
    },
    generateSpanId() {
      const chosen = pool.nextSpanId;
      if (chosen === undefined) return draw(16);
      pool.nextSpanId = undefined;
      return chosen;
    },
  };
  return pool;
}
