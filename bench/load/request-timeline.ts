/**
 * Every request of a load run with its wall-clock start, latency and HTTP status, so the parent
 * can split one continuous run into windows it only knows afterwards (steady state, each version
 * swap). Times are epoch milliseconds with sub-millisecond resolution
 * (`performance.timeOrigin + performance.now()`), comparable across the bench's processes.
 *
 * On disk: a flat little-endian Float64Array of `[startMs, latencyMs, status]` triples; status 0
 * is a failed connection.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** The fields of one request. */
const FIELDS = 3;

/** One request. */
export interface TimelineEntry {
  /** Epoch ms at which the request was written. */
  readonly startMs: number;
  readonly latencyMs: number;
  /** HTTP status; 0 when the connection failed. */
  readonly status: number;
}

/** Records requests in a growable buffer. */
export interface TimelineRecorder {
  record(entry: TimelineEntry): void;
  /** Writes what was recorded to `path`. */
  write(path: string): Promise<void>;
}

/**
 * Creates a recorder that keeps at most `limit` requests (later ones are dropped).
 * @param limit @default 8_000_000
 */
export function createTimelineRecorder(limit = 8_000_000): TimelineRecorder {
  let data = new Float64Array(FIELDS * 65_536);
  let count = 0;
  return {
    record({ startMs, latencyMs, status }) {
      if ((count + 1) * FIELDS > data.length) {
        if (count >= limit) return;
        const grown = new Float64Array(Math.min(limit * FIELDS, data.length * 2));
        grown.set(data);
        data = grown;
      }
      const at = count * FIELDS;
      data[at] = startMs;
      data[at + 1] = latencyMs;
      data[at + 2] = status;
      count++;
    },
    async write(path) {
      await writeFile(path, new Uint8Array(data.buffer, 0, count * FIELDS * 8));
    },
  };
}

/** Reads a timeline written by {@link TimelineRecorder.write}, in start order. */
export async function readTimeline(path: string): Promise<TimelineEntry[]> {
  const bytes = await readFile(path);
  // A copy: a Buffer's offset into its ArrayBuffer need not be a multiple of 8.
  const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out: TimelineEntry[] = [];
  for (let at = 0; at + FIELDS <= data.length; at += FIELDS) {
    out.push({ startMs: data[at] as number, latencyMs: data[at + 1] as number, status: data[at + 2] as number });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}
