/**
 * Functions for `mapInWorkers` tests and measurements: a worker thread imports this module and
 * calls the named export on each element.
 */
import { StratumError } from '../../src/errors/index.ts';

/** An element and its index, as a plain object (checks both arguments arrive). */
export function describe(item: number, index: number): { item: number; index: number; square: number } {
  return { item, index, square: item * item };
}

/** A CPU-bound hash of `rounds` xorshift steps seeded by `item` (about 1 ms per 100,000 rounds). */
export function spin(item: { seed: number; rounds: number }): number {
  let x = item.seed | 0 || 1;
  for (let i = 0; i < item.rounds; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

/** Words of an e-mail, lower-cased, with their counts: a typical CPU-heavy text feature step. */
export function tokenize(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const word of text.toLowerCase().split(/[^a-z0-9']+/)) {
    if (word.length < 2) continue;
    counts[word] = (counts[word] ?? 0) + 1;
  }
  return counts;
}

/** Throws a plain Error on element 1234. */
export function failAt1234(item: number, index: number): number {
  if (index === 1234) throw new TypeError(`cannot handle ${item}`);
  return item;
}

/** Throws a BAD_REQUEST StratumError on negative numbers. */
export function rejectNegative(item: number): number {
  if (item < 0) throw new StratumError('BAD_REQUEST', `negative value ${item}`);
  return item;
}

/** Not a function: for the "no such export" error. */
export const notAFunction = 42;

/** Returns a function, which cannot be cloned back to the main thread. */
export function returnsFunction(): () => void {
  return () => undefined;
}
