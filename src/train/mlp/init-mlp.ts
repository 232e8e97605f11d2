/**
 * Seeded initial weights: He-uniform (`±√(6 / fanIn)`) before ReLU, Glorot-uniform
 * (`±√(6 / (fanIn + fanOut))`) before tanh and for the output layer; biases start at 0. The
 * scale keeps activations and gradients from vanishing or exploding through the depth.
 */
import type { MlpActivation, MlpLayer } from './mlp-model.ts';

/** Options for {@link initLayers}. */
export interface InitLayersOptions {
  /** Widths from input to output: `[numFeatures, ...hiddenLayers, numOutputs]`. */
  readonly sizes: readonly number[];
  readonly activation: MlpActivation;
  /** Uniform [0, 1) generator; consumed layer by layer, row by row. */
  readonly random: () => number;
}

/** Returns freshly initialised layers. */
export function initLayers(options: InitLayersOptions): MlpLayer[] {
  const { sizes, activation, random } = options;
  const layers: MlpLayer[] = [];
  for (let index = 0; index + 1 < sizes.length; index++) {
    const inputSize = sizes[index] as number;
    const outputSize = sizes[index + 1] as number;
    const isOutput = index + 2 === sizes.length;
    const limit =
      activation === 'relu' && !isOutput ? Math.sqrt(6 / inputSize) : Math.sqrt(6 / (inputSize + outputSize));
    const weights = new Float32Array(inputSize * outputSize);
    for (let i = 0; i < weights.length; i++) weights[i] = (2 * random() - 1) * limit;
    layers.push({ inputSize, outputSize, weights, bias: new Float32Array(outputSize) });
  }
  return layers;
}
