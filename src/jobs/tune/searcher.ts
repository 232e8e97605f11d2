/**
 * What every searcher is: a pure function from (trial number, finished trials) to the next point,
 * seeded, so that a restarted coordinator asking again for trial n from the same results gets the
 * same point. Trials record their point before they run, so a resumed experiment never asks twice.
 */
import type { Point } from './search-space.ts';

/** A finished trial as a searcher sees it: its point and its loss (lower is better). */
export interface Observation {
  readonly point: Point;
  readonly loss: number;
}

/** Gives the points of an experiment's trials. */
export interface Searcher {
  /** Points it can give at most (the grid's size), or Infinity. */
  readonly size: number;
  /** The point of trial `number` (0-based), or undefined past the last one. */
  suggest(args: { readonly number: number; readonly history: readonly Observation[] }): Point | undefined;
}
