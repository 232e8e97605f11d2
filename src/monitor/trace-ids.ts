/**
 * Trace and span ids cut from a pool of random hex, refilled 4 KB at a time: one `randomFillSync`
 * and one hex conversion for hundreds of ids, where the SDK's generator makes a string per id from
 * `Math.random`. Sampled and unsampled requests draw from the same pool.
 */
import { randomFillSync } from 'node:crypto';

const ID_POOL_BYTES = 4096;

/** A pool of ids. */
export interface TraceIdPool {
  /** A new trace id (32 hex). */
  traceId(): string;
  /** A new span id (16 hex). */
  spanId(): string;
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
  return { traceId: () => draw(32), spanId: () => draw(16) };
}
