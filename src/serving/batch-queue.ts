/**
 * The batcher's waiting requests: one FIFO per priority level. Entries leave by being taken into
 * a batch or by expiring; both only flip the entry's state, and the queue skips such entries
 * lazily, so neither costs a search or a splice on the hot path.
 */

/** What the queue needs of an entry. */
export interface QueueEntry {
  readonly rows: number;
  readonly shapeKey: string;
  state: 'queued' | 'taken' | 'expired';
}

/** Entries and the rows they carry. */
export interface Gathered<E> {
  readonly entries: E[];
  readonly rows: number;
}

/** Queues by priority level (index 0 is served first). */
export class PriorityQueues<E extends QueueEntry> {
  readonly #queues: E[][];
  readonly #heads: number[];

  constructor(levels: number) {
    this.#queues = Array.from({ length: levels }, () => []);
    this.#heads = new Array<number>(levels).fill(0);
  }

  /** Appends to level `priority - 1`. */
  push(priority: number, entry: E): void {
    (this.#queues[priority - 1] as E[]).push(entry);
  }

  /** The first queued entry of the highest non-empty priority. */
  head(): E | undefined {
    const queues = this.#queues;
    for (let p = 0; p < queues.length; p++) {
      const q = queues[p] as E[];
      let h = this.#heads[p] as number;
      while (h < q.length && (q[h] as E).state !== 'queued') h++;
      this.#heads[p] = h;
      // Drop the consumed prefix once it is most of the array, so memory stays bounded.
      if (h > 1024 && h * 2 > q.length) {
        q.splice(0, h);
        this.#heads[p] = 0;
        h = 0;
      }
      if (h < q.length) return q[h];
    }
    return undefined;
  }

  /**
   * Up to `limit` rows of entries shaped like `first`, in priority then arrival order, from the
   * first `levels` levels only (default: all).
   */
  gather(first: E, limit: number, levels: number = this.#queues.length): Gathered<E> {
    const entries: E[] = [];
    let rows = 0;
    let scanned = 0;
    const queues = this.#queues;
    for (let p = 0; p < levels && rows < limit; p++) {
      const q = queues[p] as E[];
      for (let i = this.#heads[p] as number; i < q.length && rows < limit && scanned < limit * 4; i++) {
        const e = q[i] as E;
        if (e.state !== 'queued') continue;
        scanned++;
        if (e.shapeKey !== first.shapeKey || rows + e.rows > limit) continue;
        entries.push(e);
        rows += e.rows;
      }
    }
    return { entries, rows };
  }

  /**
   * Forgets every entry, once none is queued (each was taken or expired). The consumed prefix is
   * otherwise kept until it passes 1,024 entries, and each entry holds its request and, through
   * its settled promise, its response: megabytes per idle version for models with large tensors.
   */
  forgetConsumed(): void {
    for (const q of this.#queues) q.length = 0;
    this.#heads.fill(0);
  }

  /** Entries the arrays still reference, queued or not (for tests). */
  get retained(): number {
    let count = 0;
    for (const q of this.#queues) count += q.length;
    return count;
  }

  /** Empties every level, handing each still-queued entry to `each` first. */
  clear(each: (entry: E) => void): void {
    for (const q of this.#queues) {
      for (const e of q) if (e.state === 'queued') each(e);
      q.length = 0;
    }
    this.#heads.fill(0);
  }
}

/** The first entries, in order, that add up to exactly `target` rows (or as close below as they get). */
export function takeRows<E extends QueueEntry>(entries: readonly E[], target: number): Gathered<E> {
  const out: E[] = [];
  let rows = 0;
  for (const e of entries) {
    if (rows + e.rows > target) continue;
    out.push(e);
    rows += e.rows;
    if (rows === target) break;
  }
  return { entries: out, rows };
}
