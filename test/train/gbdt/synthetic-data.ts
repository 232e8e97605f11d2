/** Seeded synthetic data sets for the GBDT tests: regression, binary and 3-class problems. */
import { seededRandom } from '../../../src/onnx/fixtures/seeded-random.ts';

/** A row-major feature matrix with its labels. */
export interface Dataset {
  readonly features: Float32Array;
  readonly labels: Float32Array;
  readonly numFeatures: number;
}

/** Options for {@link makeDataset}. */
export interface MakeDatasetOptions {
  readonly kind: 'regression' | 'binary' | 'multiclass';
  readonly numRows: number;
  readonly seed: number;
  /** @default 8 */
  readonly numFeatures?: number;
}

/** Features uniform in [-1, 1); the label depends non-linearly on the first four features plus noise. */
export function makeDataset(options: MakeDatasetOptions): Dataset {
  const { kind, numRows, seed } = options;
  const numFeatures = options.numFeatures ?? 8;
  const random = seededRandom(seed);
  const features = random.uniform({ length: numRows * numFeatures, limit: 1 });
  const labels = new Float32Array(numRows);
  for (let i = 0; i < numRows; i++) {
    const x = (j: number): number => features[i * numFeatures + j] as number;
    const noise = random.next() - 0.5;
    if (kind === 'regression') {
      labels[i] = 3 * Math.sin(2 * x(0)) + 2 * x(1) * x(2) + x(3) + 0.2 * noise;
    } else if (kind === 'binary') {
      labels[i] = x(0) + x(1) * x(1) - 0.3 + 0.4 * noise > 0 ? 1 : 0;
    } else {
      const scores = [x(0) + 0.3 * noise, x(1) * x(2) * 2, -x(0) - x(3)];
      labels[i] = scores.indexOf(Math.max(...scores));
    }
  }
  return { features, labels, numFeatures };
}

/** Options for {@link makeOneHotDataset}. */
export interface MakeOneHotDatasetOptions {
  readonly numRows: number;
  readonly seed: number;
  /** Categories per one-hot block. @default 12 */
  readonly categories?: number;
}

/**
 * A binary task shaped like the flights example: 3 dense features uniform in [-1, 1), then two
 * one-hot blocks of Zipf-distributed categories (each column mostly 0); the label depends on all of
 * them plus noise.
 */
export function makeOneHotDataset(options: MakeOneHotDatasetOptions): Dataset {
  const { numRows, seed } = options;
  const categories = options.categories ?? 12;
  const numDense = 3;
  const numFeatures = numDense + 2 * categories;
  const random = seededRandom(seed);
  const weights = Array.from({ length: categories }, (_, c) => 1 / (c + 1));
  const total = weights.reduce((sum, w) => sum + w, 0);
  const category = (): number => {
    let u = random.next() * total;
    for (let c = 0; c < categories; c++) {
      u -= weights[c] as number;
      if (u < 0) return c;
    }
    return categories - 1;
  };
  const features = new Float32Array(numRows * numFeatures);
  const labels = new Float32Array(numRows);
  for (let i = 0; i < numRows; i++) {
    const row = features.subarray(i * numFeatures, (i + 1) * numFeatures);
    for (let j = 0; j < numDense; j++) row[j] = random.next() * 2 - 1;
    const origin = category();
    const destination = category();
    row[numDense + origin] = 1;
    row[numDense + categories + destination] = 1;
    const z =
      (row[0] as number) +
      0.5 * (row[1] as number) * (row[2] as number) +
      (origin % 3 === 0 ? 0.8 : -0.3) +
      (destination === 1 ? 1 : 0) -
      0.1 * origin +
      0.6 * (random.next() - 0.5);
    labels[i] = z > 0 ? 1 : 0;
  }
  return { features, labels, numFeatures };
}
