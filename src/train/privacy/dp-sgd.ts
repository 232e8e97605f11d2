/**
 * The private step of DP-SGD (Abadi et al. 2016), shared by the linear trainer and the MLP: a
 * Poisson-sampled batch, per-row gradients clipped to norm C, Gaussian noise N(0, σ²C²) on their
 * sum, divided by the expected batch size. Poisson sampling (not a shuffled fixed-size batch) is
 * what the RDP accountant's subsampled-Gaussian bound assumes, so the ε reported is the ε spent.
 * Data-independent terms (the L2 penalty) are added by the trainer after the noise.
 */
import { seededRandom } from '../common/seeded-random.ts';
import { dpSgdEpsilon } from './rdp-accountant.ts';
import type { PrivacyParams } from './privacy-params.ts';

/** What a private run spent, recorded with the run and in the model card. */
export interface PrivacyReport {
  readonly mechanism: 'dp-sgd';
  readonly sampling: 'poisson';
  readonly accountant: 'rdp';
  readonly noiseMultiplier: number;
  readonly clipNorm: number;
  /** Probability of a row being in a step's batch: batchSize / rows. */
  readonly samplingRate: number;
  /** Noisy steps taken. */
  readonly steps: number;
  readonly epsilon: number;
  readonly delta: number;
  /** The RDP order that gave ε. */
  readonly order: number;
}

/** Options of {@link createDpSgd}. */
export interface DpSgdOptions {
  readonly privacy: PrivacyParams;
  /** Training rows N. */
  readonly rows: number;
  /** Expected batch size L (the sampling rate is L / N, at most 1). */
  readonly batchSize: number;
  /** Seed of the sampling and the noise. */
  readonly seed: number;
}

/** One private run's sampler, noise and accountant. */
export interface DpSgd {
  /** Steps that make an epoch: ⌈N / L⌉. */
  readonly stepsPerEpoch: number;
  /** This step's batch: each row independently with probability L / N (may be empty). */
  sampleBatch(): Uint32Array;
  /**
   * Writes into `out` the private mean gradient of `batch`: `perRow(row, scratch)` overwrites
   * `scratch` with one row's gradient (of its loss alone).
   */
  privateGradient(args: {
    readonly batch: Uint32Array;
    readonly perRow: (row: number, scratch: Float64Array) => void;
    readonly out: Float64Array;
  }): void;
  /** What the steps taken so far spent. */
  report(): PrivacyReport;
}

/** Starts a private run. */
export function createDpSgd(options: DpSgdOptions): DpSgd {
  const { privacy, rows } = options;
  const samplingRate = Math.min(1, options.batchSize / rows);
  const expected = samplingRate * rows;
  // Separate streams: the batches do not depend on how much noise was drawn.
  const streams = seededRandom(options.seed ^ 0x5eed_d9);
  const sampleRandom = seededRandom(Math.floor(streams() * 2 ** 32));
  const gaussian = gaussianSource(seededRandom(Math.floor(streams() * 2 ** 32)));
  const picked = new Uint32Array(rows);
  let scratch = new Float64Array(0);
  let steps = 0;
  return {
    stepsPerEpoch: Math.ceil(rows / options.batchSize),
    sampleBatch() {
      // Each row independently with probability q, drawn as geometric gaps between the rows taken
      // (the same distribution as a coin per row, in O(qN) draws instead of N).
      let count = 0;
      const logSkip = Math.log1p(-samplingRate);
      for (let i = -1; ;) {
        i += 1 + Math.floor(Math.log(1 - sampleRandom()) / logSkip);
        if (!(i < rows)) break;
        picked[count++] = i;
      }
      return picked.slice(0, count);
    },
    privateGradient({ batch, perRow, out }) {
      if (scratch.length !== out.length) scratch = new Float64Array(out.length);
      out.fill(0);
      for (const row of batch) {
        perRow(row, scratch);
        let squared = 0;
        for (let i = 0; i < scratch.length; i++) squared += (scratch[i] as number) ** 2;
        const scale = Math.min(1, privacy.clipNorm / Math.max(Math.sqrt(squared), 1e-300));
        for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + scale * (scratch[i] as number);
      }
      const std = privacy.noiseMultiplier * privacy.clipNorm;
      for (let i = 0; i < out.length; i++) out[i] = ((out[i] as number) + std * gaussian()) / expected;
      steps++;
    },
    report() {
      const spent = dpSgdEpsilon({
        samplingRate,
        noiseMultiplier: privacy.noiseMultiplier,
        steps,
        delta: privacy.delta,
      });
      return {
        mechanism: 'dp-sgd',
        sampling: 'poisson',
        accountant: 'rdp',
        noiseMultiplier: privacy.noiseMultiplier,
        clipNorm: privacy.clipNorm,
        samplingRate,
        steps,
        epsilon: spent.epsilon,
        delta: spent.delta,
        order: spent.order,
      };
    },
  };
}

/** Standard normal draws by the Box–Muller transform (two per pair of uniforms). */
function gaussianSource(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniform(); // (0, 1]: the logarithm stays finite
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}
