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
