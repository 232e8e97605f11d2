/**
 * The ratio decision of OpenTelemetry's `TraceIdRatioBasedSampler`, made without the SDK so that a
 * request that will not be sampled never reaches it. Same arithmetic (the trace id's four 32-bit
 * words XORed, below `ratio × 0xffffffff`), so the SDK, asked about a trace id this sampled,
 * agrees and records it.
 */

/** Decides by trace id whether a new trace is sampled at `ratio` (0–1). */
export type TraceRatioSampler = (traceId: string) => boolean;

/** A sampler of new traces at `ratio`, as `new TraceIdRatioBasedSampler(ratio)` decides. */
export function traceRatioSampler(ratio: number): TraceRatioSampler {
  const normalized = Number.isNaN(ratio) ? 0 : ratio >= 1 ? 1 : ratio <= 0 ? 0 : ratio;
  const upperBound = normalized === 1 ? 0x100000000 : Math.floor(normalized * 0xffffffff);
  if (upperBound === 0) return () => false;
  if (upperBound === 0x100000000) return () => true;
  return (traceId) => accumulate(traceId) < upperBound;
}

function accumulate(traceId: string): number {
  let accumulation = 0;
  for (let i = 0; i < 32; i += 8) {
    // The trace id is lowercase hex (ours from the pool, a caller's checked by `parseTraceparent`).
    const part = parseInt(traceId.slice(i, i + 8), 16);
    accumulation = (accumulation ^ part) >>> 0;
  }
  return accumulation;
}
