/**
 * The trained multilayer perceptron as data: what `trainMlp` returns and what prediction and ONNX
 * export read. Each layer's weights are stored `[inputSize, outputSize]` row-major, the layout
 * `Gemm` takes as `B`, like the linear model's.
 */
import { StratumError } from '../../errors/index.ts';
import type { TrainingObjective } from '../common/objective.ts';

/** What the model predicts; the head after the last layer is identity, sigmoid or softmax. */
export type MlpObjective = TrainingObjective;

/** Non-linearity after every hidden layer. */
export type MlpActivation = 'relu' | 'tanh';

/** One dense layer `x·W + b`. */
export interface MlpLayer {
  /** Input width. */
  readonly inputSize: number;
  /** Output width. */
  readonly outputSize: number;
  /** Weights, row-major `inputSize×outputSize`. */
  readonly weights: Float32Array;
  /** Bias, length `outputSize`. */
  readonly bias: Float32Array;
}

/** A trained MLP: hidden layers with `activation`, then an output layer and the objective's head. */
export interface MlpModel {
  /** `'regression'` (identity), `'binary'` (sigmoid) or `'multiclass'` (softmax). */
  readonly objective: MlpObjective;
  /** Input width F. */
  readonly numFeatures: number;
  /** Output width K of the last layer: 1 for regression and binary, the number of classes for multiclass. */
  readonly numOutputs: number;
  /** Activation of the hidden layers. */
  readonly activation: MlpActivation;
  /** Hidden layers then the output layer; `layers[i].outputSize === layers[i + 1].inputSize`. */
  readonly layers: readonly MlpLayer[];
}

/**
 * Throws unless the layers chain from `numFeatures` to `numOutputs` with weights and biases of the
 * declared sizes, so a model read back from JSON fails here rather than deep in a kernel.
 *
 * @throws StratumError BAD_REQUEST naming the first inconsistent layer.
 */
export function checkMlpModel(model: MlpModel): void {
  const { layers, numFeatures, numOutputs } = model;
  if (!Array.isArray(layers) || layers.length === 0) throw badModel('model.layers must hold at least the output layer');
  let width = numFeatures;
  for (const [index, layer] of layers.entries()) {
    const where = `model.layers[${index}]`;
    if (layer.inputSize !== width) throw badModel(`${where}.inputSize is ${layer.inputSize}, expected ${width}`);
    if (!(layer.weights instanceof Float32Array) || layer.weights.length !== layer.inputSize * layer.outputSize) {
      throw badModel(`${where}.weights must be a Float32Array of length ${layer.inputSize}×${layer.outputSize}`);
    }
    if (!(layer.bias instanceof Float32Array) || layer.bias.length !== layer.outputSize) {
      throw badModel(`${where}.bias must be a Float32Array of length ${layer.outputSize}`);
    }
    width = layer.outputSize;
  }
  if (width !== numOutputs) throw badModel(`the last layer has ${width} outputs, expected numOutputs ${numOutputs}`);
}

function badModel(message: string): StratumError {
  return new StratumError('BAD_REQUEST', message, { details: { parameter: 'model' } });
}
