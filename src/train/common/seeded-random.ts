/**
 * Seeded randomness for training (mini-batch order), so a run is reproducible for a seed on every
 * machine: mulberry32 uses only 32-bit integer arithmetic, which JS engines evaluate identically.
 */

import { mulberry32 } from '../../random/mulberry32.ts';

/** A generator of uniform numbers in [0, 1) for `seed` (the project's one seeded generator). */
export const seededRandom = mulberry32;

/** Fisher–Yates shuffle of `order` in place, drawing from `random`. */
export function shuffleInPlace(order: Uint32Array, random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
}
