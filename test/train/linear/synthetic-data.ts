/** Seeded synthetic data sets for the linear-model tests (Gaussian noise via Box–Muller). */
import { seededRandom } from '../../../src/train/common/seeded-random.ts';

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

/**
 * Mostly-zero rows like hashed text features: each row has about `density·F` non-zero features
 * (some negative zeros among the zeros), and the label follows a sparse linear rule.
 */
export function sparseData(options: {
  rows: number;
  numFeatures: number;
  density: number;
  objective: 'regression' | 'binary' | 'multiclass';
  numClasses?: number;
  seed: number;
}): Synthetic {
  const random = seededRandom(options.seed);
  const normal = gaussian(random);
  const f = options.numFeatures;
  const k = options.objective === 'multiclass' ? (options.numClasses ?? 3) : 1;
  const truth = Float64Array.from({ length: f * k }, () => 2 * normal());
  const features = new Float32Array(options.rows * f);
  const labels = new Float64Array(options.rows);
  const scores = new Float64Array(k);
  for (let r = 0; r < options.rows; r++) {
    scores.fill(0);
    for (let j = 0; j < f; j++) {
      const draw = random();
      if (draw >= options.density) {
        if (draw > 0.99) features[r * f + j] = -0;
        continue;
      }
      const x = Math.fround(Math.abs(normal()) + 0.1);
      features[r * f + j] = x;
      for (let c = 0; c < k; c++) scores[c] = (scores[c] as number) + x * (truth[j * k + c] as number);
    }
    const noise = 0.3 * normal();
    if (options.objective === 'regression') labels[r] = (scores[0] as number) + noise;
    else if (options.objective === 'binary') labels[r] = (scores[0] as number) + noise > 0 ? 1 : 0;
    else {
      let best = 0;
      for (let c = 1; c < k; c++) if ((scores[c] as number) > (scores[best] as number)) best = c;
      labels[r] = best;
    }
  }
  return { features, labels, rows: options.rows };
}
