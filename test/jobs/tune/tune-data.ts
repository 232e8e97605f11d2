/**
 * A small synthetic regression table for tuning tests and the benchmark: y = sin(3·x1) + x2² −
 * 0.5·x3 + noise over 800 seeded rows, and a tuning spec over it (GBDT, written as plain JSON).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../../src/random/mulberry32.ts';

/** Writes `tune.csv` into `folder` and returns its path. */
export function writeTuneCsv(folder: string, rows = 800): string {
  const random = mulberry32(11);
  const lines = ['x1,x2,x3,y'];
  for (let i = 0; i < rows; i++) {
    const [x1, x2, x3] = [random() * 2 - 1, random() * 2 - 1, random() * 2 - 1];
    const y = Math.sin(3 * x1) + x2 * x2 - 0.5 * x3 + (random() - 0.5) * 0.2;
    lines.push(`${x1.toFixed(5)},${x2.toFixed(5)},${x3.toFixed(5)},${y.toFixed(5)}`);
  }
  const path = join(folder, 'tune.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** A tuning spec over the CSV at `dataPath` (fields overridable). */
export function tuneSpecInput(dataPath: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'synthetic-tune',
    train: {
      name: 'synthetic',
      data: { source: { format: 'csv', path: dataPath }, label: 'y' },
      split: { validation: 0.25, seed: 1 },
      features: {
        transforms: [
          { column: 'x1', transform: 'standardize' },
          { column: 'x2', transform: 'standardize' },
          { column: 'x3', transform: 'standardize' },
        ],
      },
      model: { kind: 'gbdt', objective: 'regression', params: { numTrees: 16, maxBins: 32 } },
    },
    space: {
      'model.params.learningRate': { loguniform: [0.01, 0.5] },
      'model.params.maxDepth': { int: [1, 4] },
    },
    searcher: { type: 'random', seed: 5 },
    trials: 6,
    scheduler: { type: 'asha', gracePeriod: 2, reductionFactor: 2 },
    register: { model: 'synthetic-best', alias: 'best' },
    ...overrides,
  };
}
