/** Seeded two-class problems no linear model can solve: XOR quadrants and two interleaved moons. */
import { seededRandom } from '../../../src/train/common/seeded-random.ts';

/** A data set in the trainer's layout. */
export interface Labelled {
  readonly features: Float32Array;
  readonly labels: Float64Array;
  readonly rows: number;
}

/** Two uniform features in [−1, 1]; label 1 when they have the same sign. */
export function xor(options: { rows: number; seed: number }): Labelled {
  const random = seededRandom(options.seed);
  const features = new Float32Array(options.rows * 2);
  const labels = new Float64Array(options.rows);
  for (let r = 0; r < options.rows; r++) {
    const a = 2 * random() - 1;
    const b = 2 * random() - 1;
    features[2 * r] = a;
    features[2 * r + 1] = b;
    labels[r] = a * b > 0 ? 1 : 0;
  }
  return { features, labels, rows: options.rows };
}

/** scikit-learn's `make_moons`: two half circles, each shifted into the other's hollow, plus Gaussian noise. */
export function twoMoons(options: { rows: number; noise: number; seed: number }): Labelled {
  const random = seededRandom(options.seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(options.rows * 2);
  const labels = new Float64Array(options.rows);
  for (let r = 0; r < options.rows; r++) {
    const label = r % 2;
    const angle = Math.PI * random();
    const x = label === 0 ? Math.cos(angle) : 1 - Math.cos(angle);
    const y = label === 0 ? Math.sin(angle) : 0.5 - Math.sin(angle);
    features[2 * r] = x + options.noise * normal();
    features[2 * r + 1] = y + options.noise * normal();
    labels[r] = label;
  }
  return { features, labels, rows: options.rows };
}

/** Share of rows whose arg-max column is the label. */
export function accuracy(options: { values: Float32Array; width: number; labels: ArrayLike<number> }): number {
  const { values, width, labels } = options;
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let c = 1; c < width; c++)
      if ((values[r * width + c] as number) > (values[r * width + best] as number)) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / labels.length;
}
