// The searchers: seeded and pure (the same seed and history give the same point), points inside
// the space, the grid's cartesian order, and TPE beating random search on a synthetic objective
// (medians over several seeds, not one lucky run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSearcher } from '../../../src/jobs/tune/create-searcher.ts';
import { gridSearcher, gridValues } from '../../../src/jobs/tune/grid-searcher.ts';
import { randomSearcher } from '../../../src/jobs/tune/random-searcher.ts';
import type { Point, SearchSpace } from '../../../src/jobs/tune/search-space.ts';
import type { Observation, Searcher } from '../../../src/jobs/tune/searcher.ts';
import { belowCount, logDensity, parzen, tpeSearcher } from '../../../src/jobs/tune/tpe-searcher.ts';

const SPACE: SearchSpace = {
  'model.params.learningRate': { loguniform: [1e-4, 1] },
  'model.params.maxDepth': { int: [1, 8] },
  'model.params.colSubsample': { uniform: [0.2, 1] },
  'model.params.activation': { choice: ['relu', 'tanh'] },
};

function checkInSpace(point: Point): void {
  const lr = point['model.params.learningRate'] as number;
  const depth = point['model.params.maxDepth'] as number;
  const col = point['model.params.colSubsample'] as number;
  assert.ok(lr >= 1e-4 && lr <= 1, `learningRate ${lr}`);
  assert.ok(Number.isInteger(depth) && depth >= 1 && depth <= 8, `maxDepth ${depth}`);
  assert.ok(col >= 0.2 && col <= 1, `colSubsample ${col}`);
  assert.ok(['relu', 'tanh'].includes(point['model.params.activation'] as string));
}

/** A synthetic loss with its minimum at lr = 1e-2, depth 6, colSubsample 0.7, tanh. */
function objective(point: Point): number {
  const lr = Math.log10(point['model.params.learningRate'] as number) + 2;
  const depth = ((point['model.params.maxDepth'] as number) - 6) / 4;
  const col = ((point['model.params.colSubsample'] as number) - 0.7) / 0.4;
  return lr * lr + depth * depth + col * col + (point['model.params.activation'] === 'tanh' ? 0 : 0.5);
}

function bestAfter(searcher: Searcher, trials: number): number {
  const history: Observation[] = [];
  for (let number = 0; number < trials; number++) {
    const point = searcher.suggest({ number, history }) as Point;
    history.push({ point, loss: objective(point) });
  }
  return Math.min(...history.map((o) => o.loss));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

describe('random search', () => {
  test('is seeded and pure: the same seed and trial give the same point, other seeds other points', () => {
    const a = randomSearcher({ space: SPACE, seed: 7 });
    const b = randomSearcher({ space: SPACE, seed: 7 });
    const c = randomSearcher({ space: SPACE, seed: 8 });
    for (let number = 0; number < 50; number++) {
      const point = a.suggest({ number, history: [] }) as Point;
      checkInSpace(point);
      assert.deepEqual(point, b.suggest({ number, history: [] }));
    }
    assert.notDeepEqual(a.suggest({ number: 0, history: [] }), c.suggest({ number: 0, history: [] }));
    assert.notDeepEqual(a.suggest({ number: 0, history: [] }), a.suggest({ number: 1, history: [] }));
  });

  test('covers an int range end to end and both choices', () => {
    const searcher = randomSearcher({ space: SPACE, seed: 1 });
    const depths = new Set<unknown>();
    const activations = new Set<unknown>();
    for (let number = 0; number < 200; number++) {
      const point = searcher.suggest({ number, history: [] }) as Point;
      depths.add(point['model.params.maxDepth']);
      activations.add(point['model.params.activation']);
    }
    assert.deepEqual([...depths].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(activations.size, 2);
  });
});

describe('grid search', () => {
  test('values: every choice, every integer, evenly spaced (log-spaced) continuous points, ends included', () => {
    assert.deepEqual(gridValues({ choice: ['a', 'b'] }, 3), ['a', 'b']);
    assert.deepEqual(gridValues({ int: [2, 5] }, 3), [2, 3, 4, 5]);
    assert.deepEqual(gridValues({ uniform: [0, 1] }, 5), [0, 0.25, 0.5, 0.75, 1]);
    const logs = gridValues({ loguniform: [1e-3, 1e-1] }, 3) as number[];
    assert.ok(Math.abs((logs[0] as number) - 1e-3) < 1e-12);
    assert.ok(Math.abs((logs[1] as number) - 1e-2) < 1e-12);
    assert.equal(logs[2], 1e-1);
  });

  test('walks the cartesian product once, the last parameter fastest, then ends', () => {
    const searcher = gridSearcher({
      space: { 'model.params.a': { choice: ['x', 'y'] }, 'model.params.b': { int: [1, 3] } },
      points: 3,
    });
    assert.equal(searcher.size, 6);
    const points = Array.from({ length: 7 }, (_, number) => searcher.suggest({ number, history: [] }));
    assert.deepEqual(points.slice(0, 6), [
      { 'model.params.a': 'x', 'model.params.b': 1 },
      { 'model.params.a': 'x', 'model.params.b': 2 },
      { 'model.params.a': 'x', 'model.params.b': 3 },
      { 'model.params.a': 'y', 'model.params.b': 1 },
      { 'model.params.a': 'y', 'model.params.b': 2 },
      { 'model.params.a': 'y', 'model.params.b': 3 },
    ]);
    assert.equal(points[6], undefined);
  });
});

describe('TPE', () => {
  test("γ is Optuna's default: ⌈0.1·n⌉, at most 25", () => {
    assert.deepEqual([1, 10, 11, 100, 400].map(belowCount), [1, 1, 2, 10, 25]);
  });

  test('the Parzen estimator is a density on its range and peaks near its observations', () => {
    const mixture = parzen({ observations: [0.2, 0.25], low: 0, high: 1 });
    let integral = 0;
    const steps = 2000;
    for (let i = 0; i < steps; i++) integral += Math.exp(logDensity(mixture, (i + 0.5) / steps)) / steps;
    assert.ok(Math.abs(integral - 1) < 1e-3, `integral ${integral}`);
    assert.ok(logDensity(mixture, 0.22) > logDensity(mixture, 0.9));
  });

  test('starts random, then is pure given the history, and stays inside the space', () => {
    const tpe = tpeSearcher({ space: SPACE, seed: 3, startupTrials: 5, candidates: 24 });
    const random = randomSearcher({ space: SPACE, seed: 3 });
    assert.deepEqual(tpe.suggest({ number: 0, history: [] }), random.suggest({ number: 0, history: [] }));
    const history: Observation[] = [];
    for (let number = 0; number < 20; number++) {
      const point = tpe.suggest({ number, history }) as Point;
      checkInSpace(point);
      assert.deepEqual(point, tpe.suggest({ number, history }));
      history.push({ point, loss: objective(point) });
    }
  });

  test('beats random search on a synthetic objective: median best over 9 seeds, 40 trials each', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const tpe = seeds.map((seed) =>
      bestAfter(
        createSearcher({ space: SPACE, spec: { type: 'tpe', seed, points: 3, startupTrials: 10, candidates: 24 } }),
        40,
      ),
    );
    const random = seeds.map((seed) => bestAfter(randomSearcher({ space: SPACE, seed }), 40));
    assert.ok(median(tpe) < median(random), `TPE median ${median(tpe)} vs random ${median(random)}`);
  });
});
