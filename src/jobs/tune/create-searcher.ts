/** The searcher a tuning spec names: random, grid or TPE. */
import { gridSearcher } from './grid-searcher.ts';
import { randomSearcher } from './random-searcher.ts';
import type { SearchSpace } from './search-space.ts';
import type { Searcher } from './searcher.ts';
import { tpeSearcher } from './tpe-searcher.ts';
import type { SearcherSpec } from './tune-spec.ts';

/** The searcher a spec names, over `space`. */
export function createSearcher(args: { space: SearchSpace; spec: SearcherSpec }): Searcher {
  const { space, spec } = args;
  if (spec.type === 'grid') return gridSearcher({ space, points: spec.points });
  if (spec.type === 'tpe') {
    return tpeSearcher({ space, seed: spec.seed, startupTrials: spec.startupTrials, candidates: spec.candidates });
  }
  return randomSearcher({ space, seed: spec.seed });
}
