/** Seeded synthetic data sets for the linear-model tests (Gaussian noise via Box–Muller). */
import { seededRandom } from '../../../src/train/linear/seeded-random.ts';

/** A data set in the trainer's layout. */
export interface Synthetic {
  readonly features: Float32Array;
  readonly labels: Float64Array;
  readonly rows: number;
}

function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** `y = x·w + b + noise·ε` with standard-normal features. */
export function linearData(options: {
  rows: number;
  weights: readonly number[];
  bias: number;
  noise: number;
  seed: number;
}): Synthetic {
  const normal = gaussian(seededRandom(options.seed));
  const f = options.weights.length;
  const features = new Float32Array(options.rows * f);
  const labels = new Float64Array(options.rows);
  for (let r = 0; r < options.rows; r++) {
    let y = options.bias;
    for (let j = 0; j < f; j++) {
      const x = Math.fround(normal());
      features[r * f + j] = x;
      y += x * (options.weights[j] ?? 0);
    }
    labels[r] = y + options.noise * normal();
  }
  return { features, labels, rows: options.rows };
}

/** Rows drawn around one centre per class, unit standard deviation; labels cycle through classes. */
export function blobs(options: { rows: number; centres: readonly (readonly number[])[]; seed: number }): Synthetic {
  const normal = gaussian(seededRandom(options.seed));
  const f = options.centres[0]?.length ?? 0;
  const features = new Float32Array(options.rows * f);
  const labels = new Float64Array(options.rows);
  for (let r = 0; r < options.rows; r++) {
    const label = r % options.centres.length;
    const centre = options.centres[label] ?? [];
    for (let j = 0; j < f; j++) features[r * f + j] = (centre[j] ?? 0) + normal();
    labels[r] = label;
  }
  return { features, labels, rows: options.rows };
}

/** Row-wise arg-max of an `N×K` matrix. */
export function argmaxRows(values: Float32Array, width: number): Int32Array {
  const out = new Int32Array(values.length / width);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if ((values[r * width + c] ?? 0) > (values[r * width + best] ?? 0)) best = c;
    out[r] = best;
  }
  return out;
}
