/**
 * Adam over the weights and biases of every layer, with an L2 penalty `λ/2 · ‖W‖²` on the weights
 * (not the biases) folded into the gradient, as in the linear trainer.
 */
import type { MlpLayer } from './mlp-model.ts';
import type { MlpGradients } from './mlp-network.ts';

const ADAM = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

/** First and second moments, one pair of arrays per parameter tensor. */
export interface AdamState {
  readonly m: Float64Array[];
  readonly v: Float64Array[];
  step: number;
}

/** Zero moments for `layers` (weights then bias of each layer). */
export function createAdam(layers: readonly MlpLayer[]): AdamState {
  const sizes = layers.flatMap((layer) => [layer.weights.length, layer.bias.length]);
  return { m: sizes.map((n) => new Float64Array(n)), v: sizes.map((n) => new Float64Array(n)), step: 0 };
}

/** Options for {@link adamStep}. */
export interface AdamStepOptions {
  readonly layers: readonly MlpLayer[];
  readonly gradients: MlpGradients;
  readonly state: AdamState;
  readonly learningRate: number;
  readonly l2: number;
}

/** Updates every layer's weights and bias in place by one Adam step. */
export function adamStep(options: AdamStepOptions): void {
  const { layers, gradients, state, learningRate, l2 } = options;
  state.step++;
  const correction1 = 1 - ADAM.beta1 ** state.step;
  const correction2 = 1 - ADAM.beta2 ** state.step;
  for (const [index, layer] of layers.entries()) {
    const pairs = [
      { params: layer.weights, gradient: gradients.weights[index] as Float32Array, penalty: l2 },
      { params: layer.bias, gradient: gradients.bias[index] as Float32Array, penalty: 0 },
    ];
    for (const [offset, { params, gradient, penalty }] of pairs.entries()) {
      const m = state.m[2 * index + offset] as Float64Array;
      const v = state.v[2 * index + offset] as Float64Array;
      for (let i = 0; i < params.length; i++) {
        const theta = params[i] as number;
        const g = (gradient[i] as number) + penalty * theta;
        const mi = ADAM.beta1 * (m[i] as number) + (1 - ADAM.beta1) * g;
        const vi = ADAM.beta2 * (v[i] as number) + (1 - ADAM.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = theta - (learningRate * (mi / correction1)) / (Math.sqrt(vi / correction2) + ADAM.epsilon);
      }
    }
  }
}
