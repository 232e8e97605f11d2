/**
 * `npm run bench -- --only cards`: what governance costs at training time. DP-SGD against the
 * same trainer's ordinary epochs (per-row gradients and clipping instead of one batched gradient),
 * for the linear model and the MLP on the same synthetic rows, and the card's permutation
 * importance (columns × repeats predictions of the held-out rows) against one training run of
 * the linear model. Ordinary and private runs alternate, so load on a shared machine hits both.
 */
import { performance } from 'node:perf_hooks';
import { permutationImportance } from '../../src/train/card/permutation-importance.ts';
import { seededRandom } from '../../src/train/common/seeded-random.ts';
import { predictLinear } from '../../src/train/linear/predict-linear.ts';
import { trainLinear } from '../../src/train/linear/train-linear.ts';
import { trainMlp } from '../../src/train/mlp/train-mlp.ts';
import type { Progress } from '../progress.ts';

/** One comparison's medians. */
export interface CardsBenchRow {
  readonly what: string;
  /** The reference (ordinary training) in ms. */
  readonly referenceMs: number;
  /** The governed variant in ms. */
  readonly measuredMs: number;
  readonly note: string;
}

/** Runs the comparisons (quick: fewer rows and rounds). */
export function runCardsBench(options: { progress: Progress; quick: boolean }): CardsBenchRow[] {
  const rows = options.quick ? 5000 : 20_000;
  const numFeatures = 20;
  const rounds = options.quick ? 1 : 3;
  const random = seededRandom(1);
  const features = Float32Array.from({ length: rows * numFeatures }, () => 2 * random() - 1);
  const labels = Float32Array.from({ length: rows }, (_, r) =>
    (features[r * numFeatures] as number) + (features[r * numFeatures + 1] as number) > 0 ? 1 : 0,
  );
  const common = { features, numFeatures, labels, objective: 'binary' as const };
  const privacy = { noiseMultiplier: 1.1, clipNorm: 1, delta: 1e-5 };
  const out: CardsBenchRow[] = [];

  const linear = { optimizer: 'sgd' as const, learningRate: 0.1, epochs: 2, batchSize: 256, seed: 1 };
  options.progress.log(`cards: linear SGD, ${rows} rows × ${numFeatures}, 2 epochs, plain vs DP-SGD`);
  const linearTimes = alternate(rounds, [
    () => trainLinear({ ...common, params: linear }),
    () => trainLinear({ ...common, params: { ...linear, privacy } }),
  ]);
  out.push({
    what: `linear SGD, 2 epochs of ${rows} × ${numFeatures}`,
    referenceMs: linearTimes[0],
    measuredMs: linearTimes[1],
    note: 'DP-SGD vs ordinary',
  });

  const mlp = { hiddenLayers: [64, 64], learningRate: 0.001, epochs: 1, batchSize: 256, seed: 1 };
  options.progress.log(`cards: MLP [64, 64], 1 epoch, plain vs DP-SGD`);
  const mlpTimes = alternate(rounds, [
    () => trainMlp({ ...common, params: mlp }),
    () => trainMlp({ ...common, params: { ...mlp, privacy } }),
  ]);
  out.push({
    what: `MLP [64, 64], 1 epoch of ${rows} × ${numFeatures}`,
    referenceMs: mlpTimes[0],
    measuredMs: mlpTimes[1],
    note: 'DP-SGD vs ordinary',
  });

  // Permutation importance on 5000 held-out rows, 5 repeats, every column, against training once.
  options.progress.log('cards: permutation importance (5000 rows, 20 columns, 5 repeats) vs one linear training run');
  const model = trainLinear({ ...common, params: linear });
  const held = Array.from({ length: 5000 }, (_, r) =>
    Object.fromEntries(
      Array.from({ length: numFeatures }, (_, j) => [`x${j}`, features[r * numFeatures + j] as number]),
    ),
  );
  const heldLabels = labels.subarray(0, 5000);
  const columns = Array.from({ length: numFeatures }, (_, j) => `x${j}`);
  const score = (scored: readonly Record<string, number>[]): number => {
    const matrix = new Float32Array(scored.length * numFeatures);
    scored.forEach((row, r) => columns.forEach((c, j) => (matrix[r * numFeatures + j] = row[c] as number)));
    const p = predictLinear(model, { features: matrix }).values;
    let right = 0;
    for (let r = 0; r < scored.length; r++) if (((p[2 * r + 1] as number) > 0.5 ? 1 : 0) === heldLabels[r]) right++;
    return right / scored.length;
  };
  const importanceTimes = alternate(rounds, [
    () => trainLinear({ ...common, params: linear }),
    () => permutationImportance({ rows: held, columns, score, repeats: 5, seed: 0 }),
  ]);
  out.push({
    what: 'permutation importance, 5000 rows × 20 columns × 5 repeats',
    referenceMs: importanceTimes[0],
    measuredMs: importanceTimes[1],
    note: 'vs the linear training run above',
  });
  return out;
}

/** Median ms of each function, run alternately `rounds` times. */
function alternate(rounds: number, work: readonly [() => unknown, () => unknown]): [number, number] {
  const samples: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    work.forEach((fn, i) => {
      const start = performance.now();
      fn();
      samples[i as 0 | 1].push(performance.now() - start);
    });
  }
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return [median(samples[0]), median(samples[1])];
}

/** The report's table. */
export function renderCardsBench(rows: readonly CardsBenchRow[]): string {
  const lines = ['| what | reference ms | measured ms | ratio | compared |', '| --- | ---: | ---: | ---: | --- |'];
  for (const row of rows) {
    lines.push(
      `| ${row.what} | ${row.referenceMs.toFixed(0)} | ${row.measuredMs.toFixed(0)} | ${(row.measuredMs / row.referenceMs).toFixed(2)}× | ${row.note} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
