/**
 * Reads the batch sizes Stratum formed from its Prometheus endpoint: the `stratum_batch_size`
 * histogram's _sum (rows) and _count (batches) per model, and the batch-cut reasons.
 */

/** Cumulative batching counters of one model. */
export interface BatchCounters {
  readonly rows: number;
  readonly batches: number;
  /** Cut reason → batches. */
  readonly cuts: Readonly<Record<string, number>>;
}

/** Batching counters by model name. */
export type BatchSnapshot = ReadonlyMap<string, BatchCounters>;

const LINE = /^(stratum_batch_size_sum|stratum_batch_size_count|stratum_batch_cut_total)\{([^}]*)\}\s+(\S+)$/;

/** Scrapes `GET <httpUrl>/metrics`. */
export async function scrapeBatches(httpUrl: string): Promise<BatchSnapshot> {
  const response = await fetch(`${httpUrl}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  const out = new Map<string, { rows: number; batches: number; cuts: Record<string, number> }>();
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const model = labels['model'] ?? '';
    const entry = out.get(model) ?? { rows: 0, batches: 0, cuts: {} };
    const value = Number(match[3]);
    if (match[1] === 'stratum_batch_size_sum') entry.rows += value;
    else if (match[1] === 'stratum_batch_size_count') entry.batches += value;
    else entry.cuts[labels['reason'] ?? '?'] = (entry.cuts[labels['reason'] ?? '?'] ?? 0) + value;
    out.set(model, entry);
  }
  return out;
}

/** What one model's batcher did between two snapshots. */
export interface BatchDelta {
  readonly rows: number;
  readonly batches: number;
  /** rows / batches (NaN when no batch ran). */
  readonly meanBatch: number;
  readonly cuts: Readonly<Record<string, number>>;
}

/** The difference of `model`'s counters between two snapshots. */
export function batchDelta(before: BatchSnapshot, after: BatchSnapshot, model: string): BatchDelta {
  const a = before.get(model) ?? { rows: 0, batches: 0, cuts: {} };
  const b = after.get(model) ?? { rows: 0, batches: 0, cuts: {} };
  const rows = b.rows - a.rows;
  const batches = b.batches - a.batches;
  const cuts: Record<string, number> = {};
  for (const [reason, n] of Object.entries(b.cuts)) {
    const d = n - (a.cuts[reason] ?? 0);
    if (d > 0) cuts[reason] = d;
  }
  return { rows, batches, meanBatch: batches > 0 ? rows / batches : Number.NaN, cuts };
}

/** The main thread's V8 heap and external (ArrayBuffer) memory, from the default process metrics. */
export interface HeapSnapshot {
  readonly heapTotal: number;
  readonly external: number;
}

/** Scrapes the main thread's heap figures from `GET <httpUrl>/metrics`. */
export async function scrapeHeap(httpUrl: string): Promise<HeapSnapshot> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const read = (name: string): number =>
    Number(new RegExp(`^stratum_${name}\\s+(\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { heapTotal: read('nodejs_heap_size_total_bytes'), external: read('nodejs_external_memory_bytes') };
}
