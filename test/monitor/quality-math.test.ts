// Stratum's live quality metrics against scikit-learn's on seeded data (the fixture and the script
// that wrote it: test/monitor/fixtures/), and the edge cases where a metric is undefined.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { classificationMetrics, regressionMetrics, rocAuc } from '../../src/monitor/quality-math.ts';

interface Case {
  kind: 'binary' | 'multiclass' | 'regression';
  labels: number[];
  predicted: number[];
  scores?: number[][];
  accuracy?: number;
  auc?: number;
  f1?: number;
  rmse?: number;
  mae?: number;
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/quality-metrics.json', import.meta.url), 'utf8')) as Case[];

function close(actual: number | null | undefined, expected: number | undefined, what: string): void {
  assert.ok(actual !== null && actual !== undefined && expected !== undefined, what);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs scikit-learn ${expected}`);
}

for (const c of cases) {
  test(`${c.kind} metrics equal scikit-learn's`, () => {
    if (c.kind === 'regression') {
      const m = regressionMetrics(c.predicted, c.labels);
      close(m.rmse, c.rmse, 'rmse');
      close(m.mae, c.mae, 'mae');
      return;
    }
    const m = classificationMetrics({ predicted: c.predicted, labels: c.labels, scores: c.scores });
    close(m.accuracy, c.accuracy, 'accuracy');
    close(m.auc, c.auc, 'auc');
    close(m.f1, c.f1, 'f1');
  });
}

test('AUC is undefined with one class or without scores; F1 of string classes is macro', () => {
  assert.equal(rocAuc([0.1, 0.9], [true, true]), null);
  assert.equal(classificationMetrics({ predicted: [1, 0], labels: [1, 1] }).auc, null);
  const m = classificationMetrics({ predicted: ['cat', 'dog', 'dog'], labels: ['cat', 'dog', 'cat'] });
  // cat: tp 1, fn 1 → 2/3; dog: tp 1, fp 1 → 2/3.
  assert.equal(m.accuracy, 2 / 3);
  assert.ok(Math.abs(m.f1 - 2 / 3) < 1e-12);
});
