/**
 * The most frequent strings of a stream in bounded memory (Misra–Gries, in the mergeable form of
 * Agarwal et al., 2012): keep up to 2·capacity counters; when there are more, subtract the
 * (capacity+1)-th largest count from all of them and drop those that reach zero. A reported count
 * is a lower bound, short of the true count by at most `undercount` ≤ n / (capacity + 1); while
 * no subtraction has happened (at most 2·capacity distinct values) every count is exact.
 */

/** Categories longer than this are counted by their prefix, so a free-text column cannot bloat a profile. */
export const MAX_CATEGORY_LENGTH = 200;

/** The serializable state. */
export interface FrequentItemsState {
  /** `[value, count]` pairs, most frequent first (ties by value). */
  readonly counters: [string, number][];
  /** Total subtracted so far: every true count is at most the reported count plus this. */
  readonly undercount: number;
}

/** A category and its (lower-bound) count. */
export interface FrequentItem {
  /** The category (truncated to {@link MAX_CATEGORY_LENGTH} characters plus `…`). */
  readonly value: string;
  /** Occurrences; exact when the summary is exact, otherwise a lower bound. */
  readonly count: number;
}

/**
 * Misra–Gries heavy hitters.
 *
 * @example
 * ```ts
 * const items = new FrequentItems(64)
 * for (const city of cities) items.add(city)
 * items.top(10)
 * ```
 */
export class FrequentItems {
  readonly #capacity: number;
  #counters = new Map<string, number>();
  #undercount = 0;

  /** @param capacity counters kept after a reduction; counts are exact up to 2·capacity distinct values. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The most a reported count can be below the true count (0 when exact). */
  get undercount(): number {
    return this.#undercount;
  }

  /** Counts one occurrence of `value`. */
  add(value: string): void {
    const key = value.length > MAX_CATEGORY_LENGTH ? `${value.slice(0, MAX_CATEGORY_LENGTH)}…` : value;
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + 1);
    if (this.#counters.size > 2 * this.#capacity) this.#reduce();
  }

  /** Folds `other` into this summary. */
  merge(other: FrequentItems): void {
    for (const [value, count] of other.#counters) this.#counters.set(value, (this.#counters.get(value) ?? 0) + count);
    this.#undercount += other.#undercount;
    if (this.#counters.size > 2 * this.#capacity) this.#reduce();
  }

  /** The `k` largest counts, most frequent first, ties broken by value so the order is deterministic. */
  top(k: number): FrequentItem[] {
    return this.#sorted()
      .slice(0, k)
      .map(([value, count]) => ({ value, count }));
  }

  /** A plain-JSON copy of the state. */
  toJSON(): FrequentItemsState {
    return { counters: this.#sorted(), undercount: this.#undercount };
  }

  /** Restores a summary from {@link FrequentItems.toJSON}. */
  static fromJSON(state: FrequentItemsState, capacity: number): FrequentItems {
    const items = new FrequentItems(capacity);
    items.#counters = new Map(state.counters.map(([value, count]) => [value, count]));
    items.#undercount = state.undercount;
    if (items.#counters.size > 2 * capacity) items.#reduce();
    return items;
  }

  #sorted(): [string, number][] {
    return [...this.#counters].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
  }

  #reduce(): void {
    const sorted = this.#sorted();
    const cut = sorted[this.#capacity]?.[1] ?? 0;
    this.#undercount += cut;
    this.#counters = new Map(sorted.filter(([, count]) => count > cut).map(([value, count]) => [value, count - cut]));
  }
}
