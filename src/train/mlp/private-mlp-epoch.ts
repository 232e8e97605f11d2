/**
 * One DP-SGD epoch of the MLP: `stepsPerEpoch` Poisson-sampled batches, each row forwarded and
 * back-propagated alone (per-row gradients are what clipping needs), the private mean gradient
 * then applied by the same Adam step (with the L2 penalty added after the noise, as it does not
 * depend on the data).
 */
import type { TrainingData } from '../common/check-training-inputs.ts';
import type { DpSgd } from '../privacy/dp-sgd.ts';
import { type AdamState, adamStep } from './adam.ts';
import { headLoss } from './mlp-head.ts';
import type { MlpActivation, MlpLayer, MlpObjective } from './mlp-model.ts';
import { backward, createGradients, createWorkspace, forward, type MlpGradients } from './mlp-network.ts';

/** Options of {@link createPrivateMlpEpoch}. */
export interface PrivateMlpEpochOptions {
  readonly dp: DpSgd;
  readonly layers: readonly MlpLayer[];
  readonly activation: MlpActivation;
  readonly objective: MlpObjective;
  readonly train: TrainingData;
  readonly dropout: { readonly rate: number; readonly random: () => number } | undefined;
  readonly adam: AdamState;
  readonly learningRate: number;
  readonly l2: number;
}

/** Returns a function that runs one private epoch and returns the mean loss of the rows it sampled. */
export function createPrivateMlpEpoch(options: PrivateMlpEpochOptions): () => number {
  const { dp, layers, activation, objective, train, dropout } = options;
  const numFeatures = layers[0]?.inputSize ?? 0;
  const width = layers[layers.length - 1]?.outputSize ?? 0;
  const workspace = createWorkspace({ layers, capacity: 1, dropout: dropout !== undefined });
  const row = createGradients(layers);
  const applied = createGradients(layers);
  const size = layers.reduce((sum, layer) => sum + layer.weights.length + layer.bias.length, 0);
  const mean = new Float64Array(size);
  const label = new Float64Array(1);
  let total = 0;
  let seen = 0;
  const perRow = (index: number, scratch: Float64Array): void => {
    const input = train.features.subarray(index * numFeatures, (index + 1) * numFeatures);
    label[0] = train.labels[index] as number;
    const pass = { layers, activation, input, rows: 1, workspace };
    const logits = forward(dropout === undefined ? pass : { ...pass, dropout });
    const delta = workspace.deltas[layers.length - 1] as Float32Array;
    total += headLoss({ objective, logits, labels: label, rows: 1, width, delta });
    seen++;
    backward({ ...pass, dropoutRate: dropout?.rate ?? 0, gradients: row });
    flatten(row, scratch);
  };
  return () => {
    total = 0;
    seen = 0;
    for (let s = 0; s < dp.stepsPerEpoch; s++) {
      dp.privateGradient({ batch: dp.sampleBatch(), perRow, out: mean });
      unflatten(mean, applied);
      adamStep({ layers, gradients: applied, state: options.adam, learningRate: options.learningRate, l2: options.l2 });
    }
    return seen === 0 ? NaN : total / seen;
  };
}

function flatten(gradients: MlpGradients, out: Float64Array): void {
  let offset = 0;
  for (const [i, weights] of gradients.weights.entries()) {
    for (const buffer of [weights, gradients.bias[i] as Float32Array]) {
      for (let j = 0; j < buffer.length; j++) out[offset + j] = buffer[j] as number;
      offset += buffer.length;
    }
  }
}

function unflatten(flat: Float64Array, gradients: MlpGradients): void {
  let offset = 0;
  for (const [i, weights] of gradients.weights.entries()) {
    for (const buffer of [weights, gradients.bias[i] as Float32Array]) {
      for (let j = 0; j < buffer.length; j++) buffer[j] = flat[offset + j] as number;
      offset += buffer.length;
    }
  }
}
