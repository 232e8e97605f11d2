/**
 * Grid search: the cartesian product of every choice, every integer of an `int` range and `points`
 * evenly spaced values of a continuous range (log-spaced for `loguniform`), ends included. Trial n
 * is the n-th point in mixed radix (the last parameter varies fastest); nothing is materialised,
 * so a large grid costs nothing until it is walked.
 */
import type { Distribution, Point, SearchSpace } from './search-space.ts';
import { orderedParams } from './search-space.ts';
import type { Searcher } from './searcher.ts';

/** The values grid search tries for one parameter. */
export function gridValues(distribution: Distribution, points: number): readonly unknown[] {
  if ('choice' in distribution) return distribution.choice;
  if ('int' in distribution) {
    const [low, high] = distribution.int;
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  }
  const log = 'loguniform' in distribution;
  const [low, high] = log ? distribution.loguniform : distribution.uniform;
  const [a, b] = log ? [Math.log(low), Math.log(high)] : [low, high];
  return Array.from({ length: points }, (_, i) => {
    if (i === points - 1) return high;
    const x = a + ((b - a) * i) / (points - 1);
    return log ? Math.exp(x) : x;
  });
}

/** Grid search over `space`. */
export function gridSearcher(args: { space: SearchSpace; points: number }): Searcher {
  const axes = orderedParams(args.space).map(([path, d]) => ({ path, values: gridValues(d, args.points) }));
  const size = axes.reduce((n, axis) => n * axis.values.length, 1);
  return {
    size,
    suggest: ({ number }) => {
      if (number >= size) return undefined;
      const point: Record<string, unknown> = {};
      let rest = number;
      for (let i = axes.length - 1; i >= 0; i--) {
        const axis = axes[i] as (typeof axes)[number];
        point[axis.path] = axis.values[rest % axis.values.length];
        rest = Math.floor(rest / axis.values.length);
      }
      return point as Point;
    },
  };
}
