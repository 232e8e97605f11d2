/**
 * The building blocks against first principles: the blocked kernel against a naive triple loop on
 * ragged sizes, back-propagation against finite differences, and inverted dropout's scaling.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../../src/train/common/seeded-random.ts';
import { initLayers } from '../../../src/train/mlp/init-mlp.ts';
import { matmul } from '../../../src/train/mlp/matmul.ts';
import { headLoss } from '../../../src/train/mlp/mlp-head.ts';
import type { MlpObjective } from '../../../src/train/mlp/mlp-model.ts';
import { backward, createGradients, createWorkspace, forward } from '../../../src/train/mlp/mlp-network.ts';

test('matmul matches a naive product for every stride layout and ragged sizes', () => {
  const random = seededRandom(1);
  for (const [rows, inner, columns] of [
    [1, 1, 1],
    [3, 5, 2],
    [4, 4, 4],
    [9, 7, 13],
    [17, 3, 6],
  ] as const) {
    const a = Float32Array.from({ length: rows * inner }, () => random() - 0.5);
    const b = Float32Array.from({ length: inner * columns }, () => random() - 0.5);
    const bias = Float32Array.from({ length: columns }, () => random());
    const naive = (get: { a: (i: number, p: number) => number; b: (p: number, j: number) => number }): number[] =>
      Array.from({ length: rows * columns }, (_, index) => {
        const i = Math.floor(index / columns);
        const j = index % columns;
        let sum = bias[j] as number;
        for (let p = 0; p < inner; p++) sum += get.a(i, p) * get.b(p, j);
        return sum;
      });
    const out = new Float32Array(rows * columns);
    // Plain row-major operands.
    matmul({
      a: { data: a, rowStride: inner, columnStride: 1 },
      b: { data: b, rowStride: columns, columnStride: 1 },
      out,
      rows,
      inner,
      columns,
      bias,
    });
    const expected = naive({ a: (i, p) => a[i * inner + p] as number, b: (p, j) => b[p * columns + j] as number });
    expected.forEach((value, i) =>
      assert.ok(Math.abs(value - (out[i] as number)) < 1e-5, `${rows}×${inner}×${columns}`),
    );
    // The same buffers read transposed.
    matmul({
      a: { data: a, rowStride: 1, columnStride: rows },
      b: { data: b, rowStride: 1, columnStride: inner },
      out,
      rows,
      inner,
      columns,
      bias,
    });
    const transposed = naive({ a: (i, p) => a[p * rows + i] as number, b: (p, j) => b[j * inner + p] as number });
    transposed.forEach((value, i) => assert.ok(Math.abs(value - (out[i] as number)) < 1e-5, `transposed ${i}`));
  }
});

for (const objective of ['regression', 'binary', 'multiclass'] as const satisfies readonly MlpObjective[]) {
  for (const activation of ['relu', 'tanh'] as const) {
    test(`${objective} / ${activation}: back-propagation matches central differences`, () => {
      const random = seededRandom(3);
      const rows = 7;
      const width = objective === 'multiclass' ? 3 : 1;
      const layers = initLayers({ sizes: [5, 6, 5, width], activation, random });
      // Positive biases keep ReLU units away from their kink, where differences are meaningless.
      for (const layer of layers) layer.bias.forEach((_, i) => (layer.bias[i] = 0.2 + 0.3 * random()));
      const input = Float32Array.from({ length: rows * 5 }, () => 2 * random() - 1);
      const labels = Float64Array.from({ length: rows }, (_, r) =>
        objective === 'regression' ? random() : r % (width === 1 ? 2 : width),
      );
      const workspace = createWorkspace({ layers, capacity: rows, dropout: false });
      const meanLoss = (): number => {
        const logits = forward({ layers, activation, input, rows, workspace });
        return headLoss({ objective, logits, labels, rows, width }) / rows;
      };
      const logits = forward({ layers, activation, input, rows, workspace });
      headLoss({ objective, logits, labels, rows, width, delta: workspace.deltas[2] as Float32Array });
      const gradients = createGradients(layers);
      backward({ layers, activation, input, rows, workspace, dropoutRate: 0, gradients });
      const h = 1e-3;
      layers.forEach((layer, l) => {
        for (const [params, gradient] of [
          [layer.weights, gradients.weights[l] as Float32Array],
          [layer.bias, gradients.bias[l] as Float32Array],
        ] as const) {
          for (let i = 0; i < params.length; i++) {
            const original = params[i] as number;
            params[i] = original + h;
            const plus = meanLoss();
            params[i] = original - h;
            const minus = meanLoss();
            params[i] = original;
            const numeric = (plus - minus) / (2 * h);
            const analytic = gradient[i] as number;
            assert.ok(Math.abs(numeric - analytic) < 1e-3, `layer ${l} param ${i}: ${analytic} vs ${numeric}`);
          }
        }
      });
    });
  }
}

test('inverted dropout keeps about 1 − rate of the units and scales them so the mean is unchanged', () => {
  const random = seededRandom(4);
  const rows = 512;
  const layers = initLayers({ sizes: [4, 64, 1], activation: 'relu', random });
  const input = Float32Array.from({ length: rows * 4 }, () => 2 * random() - 1);
  const workspace = createWorkspace({ layers, capacity: rows, dropout: true });
  forward({ layers, activation: 'relu', input, rows, workspace, dropout: { rate: 0.25, random: seededRandom(5) } });
  const activated = workspace.outputs[0] as Float32Array;
  const dropped = workspace.dropped[0] as Float32Array;
  const mask = workspace.masks[0] as Uint8Array;
  const kept = mask.reduce((sum, m) => sum + m, 0) / mask.length;
  assert.ok(Math.abs(kept - 0.75) < 0.02, `kept ${kept}`);
  for (let i = 0; i < mask.length; i++) {
    const expected = mask[i] === 1 ? (activated[i] as number) / 0.75 : 0;
    assert.ok(Math.abs((dropped[i] as number) - expected) < 1e-6);
  }
  const mean = (values: Float32Array): number => values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean(dropped) / mean(activated) - 1) < 0.05);
});
