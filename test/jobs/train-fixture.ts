/**
 * A training spec and its data in a folder, for the tests of `train` jobs: a synthetic binary
 * problem as JSON Lines and a GBDT spec that registers its model; `numTrees` sets how long it trains.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tabularRows } from '../train/pipeline/tabular-data.ts';

/** Writes `rows.jsonl` into `dir` and returns a spec reading it (its relative path resolves against `dir`). */
export async function writeTrainingData(dir: string, options: { name: string; numTrees: number; count?: number }) {
  const { rows, labels } = tabularRows({ count: options.count ?? 600, seed: 7, complete: true });
  await writeFile(
    join(dir, 'rows.jsonl'),
    rows.map((row, i) => `${JSON.stringify({ ...row, label: labels[i] })}\n`).join(''),
  );
  return {
    name: options.name,
    data: { source: { format: 'jsonl', path: 'rows.jsonl' }, label: 'label' },
    features: {
      transforms: [
        { column: 'age', transform: 'standardize' },
        { column: 'city', transform: 'onehot' },
        { column: 'review', transform: 'text', buckets: 32 },
      ],
    },
    model: { kind: 'gbdt', objective: 'binary', params: { numTrees: options.numTrees, maxDepth: 3 } },
    register: { model: options.name, alias: 'production' },
  };
}
