/**
 * The project's seeded generator (mulberry32) with a draw counter, so a checkpoint can record
 * the generator's position as `{ seed, draws }` and a resumed run can continue the same stream.
 */
import { mulberry32 } from '../../random/mulberry32.ts';

/** A seeded generator that knows how many numbers it has produced. */
export interface CountingRandom {
  /** The next number in [0, 1). */
  next(): number;
  /** Numbers produced so far (including skipped ones). */
  draws(): number;
}

/** Generator for `seed`, advanced past its first `skip` numbers. */
export function countingRandom(seed: number, skip = 0): CountingRandom {
  const generator = mulberry32(seed);
  let draws = 0;
  const next = (): number => {
    draws++;
    return generator();
  };
  for (let i = 0; i < skip; i++) next();
  return { next, draws: () => draws };
}
