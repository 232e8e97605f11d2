/**
 * Trace and span ids cut from a pool of random hex (`util/random-hex.ts`), where the SDK's
 * generator makes a string per id from `Math.random`. Sampled and unsampled requests draw from
 * the same pool.
 */
import { createRandomHex } from '../util/random-hex.ts';

/** A pool of ids. */
export interface TraceIdPool {
  /** A new trace id (32 hex). */
  traceId(): string;
  /** A new span id (16 hex). */
  spanId(): string;
}

/** A new pool of ids. An all-zero id is invalid (W3C trace context) and drawn again. */
export function createTraceIdPool(): TraceIdPool {
  const randomHex = createRandomHex();
  const draw = (chars: number): string => {
    for (;;) {
      const id = randomHex(chars);
      if (!/^0+$/.test(id)) return id;
    }
  };
  return { traceId: () => draw(32), spanId: () => draw(16) };
}
