/**
 * A small credit-like data set with a sensitive column that is not a model input, and a training
 * spec declaring it, trained into a running registry server's stores: what the card route and
 * `stratum card` tests read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openArtifactStore } from '../../../src/artifacts/open-artifact-store.ts';
import { mulberry32 } from '../../../src/random/mulberry32.ts';
import { openMetadataStore } from '../../../src/store/open-metadata-store.ts';
import { runTraining, type TrainingResult } from '../../../src/train/run/run-training.ts';
import { parseTrainSpec, type TrainSpecInput } from '../../../src/train/run/train-spec.ts';
import type { RegistryServer } from '../../helpers/test-server.ts';

/** Rows: `income`, `debt` (inputs), `group` (sensitive, not an input), `noise` (an input the label ignores), `label`. */
export function writeCardData(dir: string, rows = 800): string {
  const random = mulberry32(21);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const lines = ['income,debt,noise,group,label'];
  for (let i = 0; i < rows; i++) {
    const group = random() < 0.4 ? 'b' : 'a';
    // Group b earns less on average: a model of income alone selects it less often.
    const income = normal() + (group === 'b' ? -0.7 : 0.3);
    const debt = normal();
    const label = 2 * income - debt + 0.5 * normal() > 0 ? 'approve' : 'deny';
    lines.push(`${income.toFixed(4)},${debt.toFixed(4)},${normal().toFixed(4)},${group},${label}`);
  }
  const path = join(dir, 'credit.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** The spec: logistic regression by DP-SGD, a card with intended use and the sensitive column. */
export function cardSpec(path: string, overrides: Partial<TrainSpecInput> = {}): TrainSpecInput {
  return {
    name: 'credit',
    data: { source: { format: 'csv', path }, label: 'label', positive: 'approve' },
    split: { validation: 0.3, seed: 2 },
    features: {
      transforms: [
        { column: 'income', transform: 'standardize' },
        { column: 'debt', transform: 'standardize' },
        { column: 'noise', transform: 'standardize' },
      ],
    },
    model: {
      kind: 'linear',
      objective: 'binary',
      params: {
        optimizer: 'sgd',
        learningRate: 0.5,
        epochs: 6,
        batchSize: 50,
        seed: 4,
        privacy: { noiseMultiplier: 1.2, clipNorm: 1, delta: 1e-5 },
      },
    },
    card: {
      intendedUse: 'Ranking applications for manual review; not for automatic refusal.',
      limitations: 'Trained on synthetic data.',
      sensitive: 'group',
      importance: { repeats: 3, seed: 1 },
    },
    register: { model: 'credit', alias: 'production' },
    ...overrides,
  };
}

/** Trains `spec` into the server's stores (the same database and artifact folder). */
export async function trainInto(t: TestContext, server: RegistryServer, spec: TrainSpecInput): Promise<TrainingResult> {
  const store = await openMetadataStore({ url: server.databaseUrl });
  t.after(() => store.close());
  const artifacts = await openArtifactStore({ url: server.artifactsUrl });
  const registry = server.registry;
  if (registry === undefined) throw new Error('the registry is off');
  return runTraining(parseTrainSpec(spec), { store, artifacts, registry, by: 'test', baseDir: server.dir });
}

/**
 * The held-out rows of `cardSpec`'s split, reproduced from the file: the run holds each row out
 * when its draw of mulberry32(seed) is below the fraction, in file order.
 */
export function heldOutRows(
  path: string,
  split: { fraction: number; seed: number } = { fraction: 0.3, seed: 2 },
): Record<string, string | number>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = (header as string).split(',');
  const random = mulberry32(split.seed);
  return lines
    .filter(() => random() < split.fraction)
    .map((line) =>
      Object.fromEntries(
        line.split(',').map((cell, i) => {
          const name = names[i] as string;
          return [name, name === 'group' || name === 'label' ? cell : Number(cell)];
        }),
      ),
    );
}
