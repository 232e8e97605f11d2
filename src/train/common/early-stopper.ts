/**
 * Early stopping, the same for every trainer: remember the step with the lowest monitored loss
 * (with whatever the trainer needs to restore it) and stop once `rounds` steps have passed
 * without improving on it.
 */

/** The best step so far, with what the trainer kept of it. */
export type EarlyStoppingBest<S> = { readonly epoch: number; readonly monitored: number } & S;

/** Options for {@link earlyStopper}. */
export interface EarlyStopperOptions<S> {
  /** Steps without improvement before stopping. @default never stops and keeps nothing */
  readonly rounds: number | undefined;
  /** The best step of a resumed run. @default none */
  readonly initial?: EarlyStoppingBest<S> | undefined;
}

/** Tracks the best monitored loss over a run. */
export interface EarlyStopper<S> {
  /**
   * Records a finished step; `keep` is called only when the step is the new best, to copy what
   * restoring it needs. Returns true when training should stop.
   */
  update(step: { epoch: number; monitored: number; keep: () => S }): boolean;
  /** The best step so far (`undefined` without `rounds`, or before the first step). */
  best(): EarlyStoppingBest<S> | undefined;
}

/**
 * Starts tracking.
 *
 * @example
 * ```ts
 * const stopper = earlyStopper<{ theta: Float64Array }>({ rounds: 5 })
 * if (stopper.update({ epoch, monitored: loss, keep: () => ({ theta: theta.slice() }) })) break
 * ```
 */
export function earlyStopper<S>(options: EarlyStopperOptions<S>): EarlyStopper<S> {
  const { rounds } = options;
  let best = options.initial;
  return {
    update: ({ epoch, monitored, keep }) => {
      if (rounds === undefined) return false;
      if (best === undefined || monitored < best.monitored) {
        best = { epoch, monitored, ...keep() };
        return false;
      }
      return epoch - best.epoch >= rounds;
    },
    best: () => best,
  };
}
