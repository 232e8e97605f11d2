/**
 * One column's running statistics while a profile is built: Welford moments and a KLL sketch for
 * numbers, a distinct counter and Misra–Gries counters for strings, true/false counts for booleans.
 * Every part is allocated on the first value of its type and has a merge, so an accumulator can be
 * rebuilt from a profile's state and combined with another.
 */
import type { ColumnProfile, NumericSummary, ProfileSettings } from './dataset-profile.ts';
import { PROFILE_QUANTILES } from './dataset-profile.ts';
import { DistinctCounter } from './distinct-counter.ts';
import { FrequentItems } from './frequent-items.ts';
import { KllSketch } from './kll-sketch.ts';

interface NumericPart {
  count: number;
  nonFinite: number;
  mean: number;
  m2: number;
  readonly sketch: KllSketch;
}

interface StringPart {
  count: number;
  readonly distinct: DistinctCounter;
  readonly frequent: FrequentItems;
}

interface BooleanPart {
  count: number;
  trueCount: number;
}

/** Running statistics of one column. */
export class ColumnAccumulator {
  readonly #settings: ProfileSettings;
  #present = 0;
  #other = 0;
  #numeric: NumericPart | undefined;
  #strings: StringPart | undefined;
  #booleans: BooleanPart | undefined;

  constructor(settings: ProfileSettings) {
    this.#settings = settings;
  }

  /** Adds one cell; missing cells (see {@link ColumnProfile.missing}) change nothing. */
  add(value: unknown): void {
    switch (typeof value) {
      case 'number':
        if (!Number.isNaN(value)) this.#addNumber(value);
        return;
      case 'bigint':
        this.#addNumber(Number(value));
        return;
      case 'string':
        if (value !== '') this.#addString(value);
        return;
      case 'boolean': {
        this.#present++;
        const part = (this.#booleans ??= { count: 0, trueCount: 0 });
        part.count++;
        if (value) part.trueCount++;
        return;
      }
      case 'undefined':
        return;
      default:
        if (value === null) return;
        if (value instanceof Date) {
          const time = value.getTime();
          if (!Number.isNaN(time)) this.#addNumber(time);
          return;
        }
        this.#present++;
        this.#other++;
    }
  }

  /** Folds `other` (same settings) into this accumulator. */
  merge(other: ColumnAccumulator): void {
    this.#present += other.#present;
    this.#other += other.#other;
    if (other.#numeric !== undefined) {
      const a = this.#numericPart();
      const b = other.#numeric;
      const n = a.count + b.count;
      if (n > 0) {
        // Chan et al.'s pairwise update: stable where the naive sum of squares is not
        const delta = b.mean - a.mean;
        a.mean += (delta * b.count) / n;
        a.m2 += b.m2 + (delta * delta * a.count * b.count) / n;
      }
      a.count = n;
      a.nonFinite += b.nonFinite;
      a.sketch.merge(b.sketch);
    }
    if (other.#strings !== undefined) {
      const a = this.#stringPart();
      a.count += other.#strings.count;
      a.distinct.merge(other.#strings.distinct);
      a.frequent.merge(other.#strings.frequent);
    }
    if (other.#booleans !== undefined) {
      const a = (this.#booleans ??= { count: 0, trueCount: 0 });
      a.count += other.#booleans.count;
      a.trueCount += other.#booleans.trueCount;
    }
  }

  /** The column's profile after `rows` rows. */
  toProfile(options: { readonly name: string; readonly rows: number }): ColumnProfile {
    const kinds = [this.#numeric, this.#strings, this.#booleans].filter((part) => part !== undefined).length;
    const kind =
      kinds + (this.#other > 0 ? 1 : 0) > 1 || (kinds === 0 && this.#other > 0)
        ? 'mixed'
        : this.#numeric !== undefined
          ? 'numeric'
          : this.#strings !== undefined
            ? 'categorical'
            : this.#booleans !== undefined
              ? 'boolean'
              : 'empty';
    const strings = this.#strings;
    const undercount = strings?.frequent.undercount ?? 0;
    return {
      name: options.name,
      kind,
      count: options.rows,
      missing: options.rows - this.#present,
      numeric: this.#numeric === undefined ? null : this.#numericSummary(this.#numeric),
      categorical:
        strings === undefined
          ? null
          : {
              count: strings.count,
              distinct: strings.distinct.estimate(),
              distinctExact: strings.distinct.exact,
              top: strings.frequent.top(this.#settings.topK),
              topExact: undercount === 0,
              state: { distinct: strings.distinct.toJSON(), frequent: strings.frequent.toJSON() },
            },
      boolean: this.#booleans === undefined ? null : { ...this.#booleans },
      otherCount: this.#other,
    };
  }

  /** Rebuilds an accumulator from a column profile made with the same settings. */
  static fromProfile(profile: ColumnProfile, settings: ProfileSettings): ColumnAccumulator {
    const accumulator = new ColumnAccumulator(settings);
    accumulator.#present = profile.count - profile.missing;
    accumulator.#other = profile.otherCount;
    const numeric = profile.numeric;
    if (numeric !== null) {
      accumulator.#numeric = {
        count: numeric.count,
        nonFinite: numeric.nonFinite,
        mean: numeric.mean ?? 0,
        m2: numeric.state.m2,
        sketch: KllSketch.fromJSON(numeric.state.sketch),
      };
    }
    const strings = profile.categorical;
    if (strings !== null) {
      accumulator.#strings = {
        count: strings.count,
        distinct: DistinctCounter.fromJSON(strings.state.distinct, settings.distinctCap),
        frequent: FrequentItems.fromJSON(strings.state.frequent, settings.topCapacity),
      };
    }
    if (profile.boolean !== null) accumulator.#booleans = { ...profile.boolean };
    return accumulator;
  }

  #addNumber(value: number): void {
    this.#present++;
    const part = this.#numericPart();
    if (!Number.isFinite(value)) {
      part.nonFinite++;
      return;
    }
    part.count++;
    const delta = value - part.mean;
    part.mean += delta / part.count;
    part.m2 += delta * (value - part.mean);
    part.sketch.update(value);
  }

  #addString(value: string): void {
    this.#present++;
    const part = this.#stringPart();
    part.count++;
    part.distinct.add(value);
    part.frequent.add(value);
  }

  #numericPart(): NumericPart {
    return (this.#numeric ??= {
      count: 0,
      nonFinite: 0,
      mean: 0,
      m2: 0,
      sketch: new KllSketch(this.#settings.quantileK),
    });
  }

  #stringPart(): StringPart {
    return (this.#strings ??= {
      count: 0,
      distinct: new DistinctCounter(this.#settings.distinctCap),
      frequent: new FrequentItems(this.#settings.topCapacity),
    });
  }

  #numericSummary(part: NumericPart): NumericSummary {
    const { sketch } = part;
    const state = { m2: part.m2, sketch: sketch.toJSON() };
    if (part.count === 0) {
      const none = { min: null, max: null, mean: null, std: null, quantiles: null, histogram: null };
      return { count: 0, nonFinite: part.nonFinite, ...none, state };
    }
    const min = sketch.quantile(0);
    const max = sketch.quantile(1);
    const quantiles = Object.fromEntries(
      Object.entries(PROFILE_QUANTILES).map(([key, q]) => [key, sketch.quantile(q)]),
    ) as NumericSummary['quantiles'];
    return {
      count: part.count,
      nonFinite: part.nonFinite,
      min,
      max,
      mean: part.mean,
      std: Math.sqrt(part.m2 / part.count),
      quantiles,
      histogram: histogramOf({ sketch, min, max, bins: this.#settings.histogramBins }),
      state,
    };
  }
}

/**
 * Equal-width bins over [min, max] counted from the sketch's weighted items. Exact while the
 * sketch has not compacted (n < k); after that each bin boundary carries the sketch's rank error.
 * Counting exactly in one pass would need the range before the data (or re-binning that cannot
 * end on [min, max] edges); the sketch gives the final edges for free and merges with it.
 */
function histogramOf(options: { sketch: KllSketch; min: number; max: number; bins: number }): {
  edges: number[];
  counts: number[];
} {
  const { sketch, min, max } = options;
  // a constant column gets one bin rather than twenty zero-width ones
  const bins = max > min ? options.bins : 1;
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const below = edges.map((edge, i) => (i === 0 ? 0 : i === bins ? sketch.count : sketch.countBelow(edge)));
  return { edges, counts: Array.from({ length: bins }, (_, i) => (below[i + 1] ?? 0) - (below[i] ?? 0)) };
}
