/** Random search: every parameter drawn independently from its distribution, seeded per trial. */
import { mulberry32 } from '../../random/mulberry32.ts';
import type { Distribution, Point, SearchSpace } from './search-space.ts';
import { orderedParams } from './search-space.ts';
import type { Searcher } from './searcher.ts';

/** One draw from `distribution` with the uniform generator `random`. */
export function sampleDistribution(distribution: Distribution, random: () => number): unknown {
  if ('choice' in distribution) return distribution.choice[Math.floor(random() * distribution.choice.length)];
  if ('int' in distribution) {
    const [low, high] = distribution.int;
    return Math.min(high, low + Math.floor(random() * (high - low + 1)));
  }
  if ('loguniform' in distribution) {
    const [low, high] = distribution.loguniform;
    return Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low)));
  }
  const [low, high] = distribution.uniform;
  return low + random() * (high - low);
}

/** A random point of `space` for trial `number`. */
export function randomPoint(args: { space: SearchSpace; seed: number; number: number }): Point {
  const random = mulberry32(trialSeed(args.seed, args.number));
  return Object.fromEntries(orderedParams(args.space).map(([path, d]) => [path, sampleDistribution(d, random)]));
}

/** Random search over `space`. */
export function randomSearcher(args: { space: SearchSpace; seed: number }): Searcher {
  return {
    size: Infinity,
    suggest: ({ number }) => randomPoint({ space: args.space, seed: args.seed, number }),
  };
}

/** A seed for trial `number` of an experiment seeded `seed` (a 32-bit mix, so nearby seeds differ). */
export function trialSeed(seed: number, number: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(number + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
