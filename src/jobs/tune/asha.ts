/**
 * ASHA, asynchronous successive halving (Li et al. 2018, "A system for massively parallel
 * hyperparameter tuning"), in the stopping form Ray Tune's ASHAScheduler uses: rungs at
 * gracePeriod · η^k below maxResource; a trial reaching a rung records its value there and goes on
 * only if the value is in the top 1/η of every value recorded at that rung so far (itself
 * included). Pure: the decision reads only the rung records, which live in the metadata store,
 * so any worker can decide and a restarted coordinator loses nothing.
 */

/** The scheduler's settings. */
export interface AshaOptions {
  /** The first rung's resource. */
  readonly gracePeriod: number;
  /** η. */
  readonly reductionFactor: number;
  /** A trial's full budget; a trial that reaches it simply ends. */
  readonly maxResource: number;
}

/** The rungs' resources, ascending: gracePeriod · η^k for every k with a value below maxResource. */
export function rungMilestones(options: AshaOptions): number[] {
  const { gracePeriod, reductionFactor, maxResource } = options;
  const milestones: number[] = [];
  for (let r = gracePeriod; r < maxResource; r *= reductionFactor) {
    const rounded = Math.round(r);
    if (milestones[milestones.length - 1] !== rounded) milestones.push(rounded);
  }
  return milestones;
}

/**
 * The q-th percentile (0…100) of `values`, interpolating linearly between the nearest ranks (as
 * NumPy's default, which Ray's cutoff uses).
 */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * q) / 100;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

/** What ASHA says to a trial at a rung. */
export type AshaDecision = 'continue' | 'stop';

/**
 * Decides at a rung. `recorded` holds every value recorded at the rung so far, the trial's own
 * included; `mode` says whether higher (`max`) or lower (`min`) values are better.
 *
 * @example
 * ```ts
 * ashaDecision({ value: 0.3, recorded: [0.3, 0.5, 0.2, 0.4], reductionFactor: 2, mode: 'min' }) // 'continue'
 * ```
 */
export function ashaDecision(args: {
  value: number;
  recorded: readonly number[];
  reductionFactor: number;
  mode: 'max' | 'min';
}): AshaDecision {
  const { value, recorded, reductionFactor, mode } = args;
  if (!Number.isFinite(value)) return 'stop';
  const finite = recorded.filter(Number.isFinite);
  if (finite.length === 0) return 'continue';
  // Higher is better from here on: the cutoff is the (1 − 1/η) quantile of the recorded values.
  const sign = mode === 'max' ? 1 : -1;
  const cutoff = percentile(
    finite.map((v) => sign * v),
    (1 - 1 / reductionFactor) * 100,
  );
  return sign * value >= cutoff ? 'continue' : 'stop';
}
