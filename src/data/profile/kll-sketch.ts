/**
 * A KLL quantile sketch (Karnin, Lang and Liberty, 2016): a stack of compactors where an item on
 * level h stands for 2^h input values. When the sketch outgrows its capacity, the lowest full level
 * is sorted and every other item (odd or even positions, a coin flip) moves one level up. Capacities
 * shrink geometrically (factor 2/3) below the top level, so the sketch keeps O(k + log n) numbers
 * whatever the number of values, and two sketches merge by concatenating levels and compacting.
 *
 * The coin comes from mulberry32 seeded with a state that is part of the sketch (and combined on
 * merge), so the same values in the same order give the same sketch on every machine and run.
 *
 * Error: the KLL analysis bounds the normalized rank error by O(1/k) with high probability; Apache
 * DataSketches, whose KLL has the same shape, quotes 1.65 % at 99 % confidence for k = 200 (the
 * default here). Measured (test/data/profile.test.ts, 100k log-normal values, k = 200): the largest
 * rank error over p1…p99 is 0.57 %, and the test holds it to 1 %. Until the first compaction
 * (fewer than k values) every answer is exact.
 */
import { StratumError } from '../../errors/index.ts';
import { mulberry32 } from '../../random/mulberry32.ts';

/** Default accuracy parameter: capacity of the top level. */
export const DEFAULT_KLL_K = 200;

/** Levels never shrink below this capacity (compacting tiny levels costs more than it saves). */
const MIN_LEVEL_CAPACITY = 8;

/** Capacity ratio between consecutive levels, from the KLL paper. */
const CAPACITY_RATIO = 2 / 3;

/** The serializable state of a {@link KllSketch}. */
export interface KllSketchState {
  /** Accuracy parameter (capacity of the top level). */
  readonly k: number;
  /** Values added. */
  readonly n: number;
  /** Exact smallest value (null when n = 0). */
  readonly min: number | null;
  /** Exact largest value (null when n = 0). */
  readonly max: number | null;
  /** Items per level; an item on level h weighs 2^h. */
  readonly levels: number[][];
  /** State of the coin generator, so a restored sketch continues deterministically. */
  readonly seed: number;
}

/** A value and the number of input values it stands for, in ascending value order. */
interface WeightedView {
  readonly values: Float64Array;
  /** `cumulative[i]` = total weight of `values[0..i]`. */
  readonly cumulative: Float64Array;
}

/**
 * A mergeable, deterministic quantile sketch over finite numbers.
 *
 * @example
 * ```ts
 * const sketch = new KllSketch()
 * for (const x of values) sketch.update(x)
 * sketch.quantile(0.5) // approximate median, rank error well under 1 %
 * ```
 */
export class KllSketch {
  readonly #k: number;
  #n = 0;
  #min = Infinity;
  #max = -Infinity;
  #levels: number[][] = [[]];
  #seed: number;
  #view: WeightedView | undefined;

  /**
   * @param k accuracy: the top level's capacity; rank error shrinks roughly as 1/k. @default 200
   */
  constructor(k = DEFAULT_KLL_K) {
    if (!Number.isInteger(k) || k < MIN_LEVEL_CAPACITY || k > 65_536) {
      throw new StratumError('BAD_REQUEST', `quantile sketch k must be an integer in [8, 65536], got ${k}`);
    }
    this.#k = k;
    this.#seed = 0x9e3779b9;
  }

  /** Number of values added (merged sketches included). */
  get count(): number {
    return this.#n;
  }

  /** Number of numbers the sketch holds: bounded by about 3k + 8·log2(n / k). */
  get retained(): number {
    return this.#levels.reduce((sum, level) => sum + level.length, 0);
  }

  /** Adds a value. Non-finite values are refused, since they have no place in a rank order the caller wants. */
  update(value: number): void {
    if (!Number.isFinite(value)) throw new StratumError('INTERNAL', `quantile sketch: cannot add ${value}`);
    this.#n++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    (this.#levels[0] as number[]).push(value);
    this.#view = undefined;
    if ((this.#levels[0] as number[]).length >= this.#capacity(0)) this.#compress();
  }

  /** Folds `other` into this sketch; `other` is unchanged. Both must have the same k. */
  merge(other: KllSketch): void {
    if (other.#k !== this.#k) {
      throw new StratumError('BAD_REQUEST', `cannot merge quantile sketches with k ${this.#k} and ${other.#k}`);
    }
    if (other.#n === 0) return;
    this.#n += other.#n;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
    other.#levels.forEach((level, h) => {
      while (this.#levels.length <= h) this.#levels.push([]);
      for (const value of level) (this.#levels[h] as number[]).push(value);
    });
    // a merge is order-sensitive anyway (levels are concatenated), so mixing the seeds keeps it deterministic
    this.#seed = (Math.imul(this.#seed ^ other.#seed, 0x85ebca6b) + 1) >>> 0;
    this.#view = undefined;
    this.#compress();
  }

  /**
   * The smallest retained value whose (weighted) rank reaches `q · n`; `q = 0` gives the exact min,
   * `q = 1` the exact max. NaN for an empty sketch.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new StratumError('BAD_REQUEST', `quantile must be in [0, 1], got ${q}`);
    if (this.#n === 0) return Number.NaN;
    if (q === 0) return this.#min;
    if (q === 1) return this.#max;
    const { values, cumulative } = this.#sorted();
    const target = q * this.#n;
    let lo = 0;
    let hi = values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] ?? 0) >= target) hi = mid;
      else lo = mid + 1;
    }
    return values[lo] ?? this.#max;
  }

  /** Approximate number of added values strictly below `value`. */
  countBelow(value: number): number {
    const { values, cumulative } = this.#sorted();
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[mid] ?? 0) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : (cumulative[lo - 1] ?? 0);
  }

  /** A plain-JSON copy of the state. */
  toJSON(): KllSketchState {
    return {
      k: this.#k,
      n: this.#n,
      min: this.#n === 0 ? null : this.#min,
      max: this.#n === 0 ? null : this.#max,
      levels: this.#levels.map((level) => [...level]),
      seed: this.#seed,
    };
  }

  /**
   * Restores a sketch from {@link KllSketch.toJSON}.
   *
   * @throws StratumError BAD_REQUEST when the weights of the levels do not add up to n.
   */
  static fromJSON(state: KllSketchState): KllSketch {
    const sketch = new KllSketch(state.k);
    const weight = state.levels.reduce((sum, level, h) => sum + level.length * 2 ** h, 0);
    if (weight !== state.n || (state.n > 0 && (state.min === null || state.max === null))) {
      throw new StratumError(
        'BAD_REQUEST',
        `quantile sketch: levels weigh ${weight} values but n is ${state.n}; the sketch is corrupt`,
      );
    }
    sketch.#n = state.n;
    sketch.#min = state.min ?? Infinity;
    sketch.#max = state.max ?? -Infinity;
    sketch.#levels = state.levels.length === 0 ? [[]] : state.levels.map((level) => [...level]);
    sketch.#seed = state.seed >>> 0;
    return sketch;
  }

  #capacity(level: number): number {
    const depth = this.#levels.length - 1 - level;
    return Math.max(MIN_LEVEL_CAPACITY, Math.floor(this.#k * CAPACITY_RATIO ** depth));
  }

  #compress(): void {
    for (;;) {
      let total = 0;
      for (let h = 0; h < this.#levels.length; h++) total += this.#capacity(h);
      if (this.retained < total) return;
      const level = this.#levels.findIndex((items, h) => items.length >= this.#capacity(h));
      if (level === -1) return;
      this.#compact(level);
    }
  }

  /** Sorts a level and promotes every other item (odd or even positions by the coin) one level up. */
  #compact(level: number): void {
    if (level === this.#levels.length - 1) this.#levels.push([]);
    const sorted = Float64Array.from(this.#levels[level] as number[]).sort();
    const next = this.#levels[level + 1] as number[];
    // an odd item out stays behind, so the promoted pairs stay pairs
    const kept = sorted.length % 2 === 1 ? [sorted[sorted.length - 1] as number] : [];
    const random = mulberry32(this.#seed);
    const offset = random() < 0.5 ? 0 : 1;
    this.#seed = (this.#seed + 0x6d2b79f5) >>> 0;
    for (let i = offset; i < sorted.length - kept.length; i += 2) next.push(sorted[i] as number);
    this.#levels[level] = kept;
  }

  #sorted(): WeightedView {
    if (this.#view !== undefined) return this.#view;
    const pairs: [number, number][] = [];
    this.#levels.forEach((level, h) => {
      for (const value of level) pairs.push([value, 2 ** h]);
    });
    pairs.sort((a, b) => a[0] - b[0]);
    const values = Float64Array.from(pairs, (pair) => pair[0]);
    const cumulative = new Float64Array(pairs.length);
    let sum = 0;
    pairs.forEach((pair, i) => {
      sum += pair[1];
      cumulative[i] = sum;
    });
    this.#view = { values, cumulative };
    return this.#view;
  }
}
