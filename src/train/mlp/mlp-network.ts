/**
 * Forward and backward passes of an MLP over one batch of rows, in preallocated buffers so the
 * training loop allocates nothing per batch. Dropout is inverted (kept units are scaled by
 * `1 / (1 − rate)` during training), so inference is the plain forward pass.
 */
import { matmul } from './matmul.ts';
import type { MlpActivation, MlpLayer } from './mlp-model.ts';

/** Buffers for batches of up to `capacity` rows. */
export interface MlpWorkspace {
  readonly capacity: number;
  /** Per layer: its output after the activation (hidden layers) or the logits (last layer). */
  readonly outputs: Float32Array[];
  /** Per hidden layer: the input of the next layer (the output after dropout); the output itself without dropout. */
  readonly dropped: Float32Array[];
  /** Per hidden layer: 1 where the unit was kept; empty without dropout. */
  readonly masks: Uint8Array[];
  /** Per layer: dLoss/d(pre-activation). */
  readonly deltas: Float32Array[];
}

/** Gradients of the batch loss, one pair per layer. */
export interface MlpGradients {
  readonly weights: Float32Array[];
  readonly bias: Float32Array[];
}

/** Allocates the buffers of a network with `layers` for batches of up to `capacity` rows. */
export function createWorkspace(options: {
  layers: readonly MlpLayer[];
  capacity: number;
  dropout: boolean;
}): MlpWorkspace {
  const { layers, capacity, dropout } = options;
  const outputs = layers.map((layer) => new Float32Array(capacity * layer.outputSize));
  const hidden = layers.length - 1;
  return {
    capacity,
    outputs,
    dropped: outputs.slice(0, hidden).map((buffer) => (dropout ? new Float32Array(buffer.length) : buffer)),
    masks: outputs.slice(0, hidden).map((buffer) => new Uint8Array(dropout ? buffer.length : 0)),
    deltas: layers.map((layer) => new Float32Array(capacity * layer.outputSize)),
  };
}

/** Allocates zeroed gradients shaped like `layers`. */
export function createGradients(layers: readonly MlpLayer[]): MlpGradients {
  return {
    weights: layers.map((layer) => new Float32Array(layer.weights.length)),
    bias: layers.map((layer) => new Float32Array(layer.bias.length)),
  };
}

/** Options for {@link forward}. */
export interface ForwardOptions {
  readonly layers: readonly MlpLayer[];
  readonly activation: MlpActivation;
  /** Row-major `rows×inputSize` of the first layer. */
  readonly input: Float32Array;
  readonly rows: number;
  readonly workspace: MlpWorkspace;
  /** Training only: drop hidden units with probability `rate`, drawing from `random`. @default no dropout */
  readonly dropout?: { readonly rate: number; readonly random: () => number };
}

/** Runs the layers; returns the logits buffer (`rows×numOutputs` at its start). */
export function forward(options: ForwardOptions): Float32Array {
  const { layers, activation, rows, workspace, dropout } = options;
  let input = options.input;
  for (const [index, layer] of layers.entries()) {
    const out = workspace.outputs[index] as Float32Array;
    matmul({
      a: { data: input, rowStride: layer.inputSize, columnStride: 1 },
      b: { data: layer.weights, rowStride: layer.outputSize, columnStride: 1 },
      out,
      rows,
      inner: layer.inputSize,
      columns: layer.outputSize,
      bias: layer.bias,
    });
    if (index === layers.length - 1) return out;
    const size = rows * layer.outputSize;
    if (activation === 'relu') {
      for (let i = 0; i < size; i++) if ((out[i] as number) < 0) out[i] = 0;
    } else {
      for (let i = 0; i < size; i++) out[i] = Math.tanh(out[i] as number);
    }
    input = out;
    if (dropout !== undefined && dropout.rate > 0) {
      const dropped = workspace.dropped[index] as Float32Array;
      const mask = workspace.masks[index] as Uint8Array;
      const scale = 1 / (1 - dropout.rate);
      for (let i = 0; i < size; i++) {
        const keep = dropout.random() >= dropout.rate;
        mask[i] = keep ? 1 : 0;
        dropped[i] = keep ? (out[i] as number) * scale : 0;
      }
      input = dropped;
    }
  }
  throw new Error('an MLP has at least one layer');
}

/** Options for {@link backward}. */
export interface BackwardOptions {
  readonly layers: readonly MlpLayer[];
  readonly activation: MlpActivation;
  /** The batch given to {@link forward}. */
  readonly input: Float32Array;
  readonly rows: number;
  /** The workspace {@link forward} filled, with `deltas[last]` set to dLoss/dlogits. */
  readonly workspace: MlpWorkspace;
  /** The dropout rate the forward pass used; 0 for none. */
  readonly dropoutRate: number;
  /** Overwritten with the gradients of the batch loss. */
  readonly gradients: MlpGradients;
}

/** Back-propagates `deltas[last]` through the layers, writing every weight and bias gradient. */
export function backward(options: BackwardOptions): void {
  const { layers, activation, rows, workspace, dropoutRate, gradients } = options;
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index] as MlpLayer;
    const { inputSize, outputSize } = layer;
    const delta = workspace.deltas[index] as Float32Array;
    const input = index === 0 ? options.input : (workspace.dropped[index - 1] as Float32Array);
    // dW = inputᵀ·δ: the transposed input is the same buffer read with swapped strides.
    matmul({
      a: { data: input, rowStride: 1, columnStride: inputSize },
      b: { data: delta, rowStride: outputSize, columnStride: 1 },
      out: gradients.weights[index] as Float32Array,
      rows: inputSize,
      inner: rows,
      columns: outputSize,
    });
    const biasGradient = gradients.bias[index] as Float32Array;
    biasGradient.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < outputSize; j++) {
        biasGradient[j] = (biasGradient[j] as number) + (delta[r * outputSize + j] as number);
      }
    }
    if (index === 0) return;
    // δ of the layer below = (δ·Wᵀ) ⊙ dropout mask ⊙ activation'.
    const below = workspace.deltas[index - 1] as Float32Array;
    matmul({
      a: { data: delta, rowStride: outputSize, columnStride: 1 },
      b: { data: layer.weights, rowStride: 1, columnStride: outputSize },
      out: below,
      rows,
      inner: outputSize,
      columns: inputSize,
    });
    const activated = workspace.outputs[index - 1] as Float32Array;
    const mask = workspace.masks[index - 1] as Uint8Array;
    const scale = dropoutRate > 0 ? 1 / (1 - dropoutRate) : 1;
    const size = rows * inputSize;
    for (let i = 0; i < size; i++) {
      const a = activated[i] as number;
      const slope = activation === 'relu' ? (a > 0 ? 1 : 0) : 1 - a * a;
      const kept = dropoutRate > 0 ? (mask[i] as number) * scale : 1;
      below[i] = (below[i] as number) * slope * kept;
    }
  }
}
