/**
 * The baselines a model has to beat, scored on the same held-out rows by the same metrics as the
 * model: a classifier against the prior (every row gets the training split's class frequencies as
 * its probabilities, so the answer is always the training split's majority class), a regressor
 * against the training mean. An accuracy of 0.81 means little until it sits next to the 0.81 of
 * always answering "on time".
 */
import { StratumError } from '../../errors/index.ts';
import { checkClassLabels, checkFinite } from './check-metric-inputs.ts';
import { evaluateClassifier, evaluateRegressor, type ClassifierReport, type RegressorReport } from './evaluate.ts';

/** Options for {@link classifierBaseline}. */
export interface ClassifierBaselineOptions {
  /** The training split's classes, integers in `[0, numClasses)`: the prior is their frequencies. */
  readonly trainingLabels: ArrayLike<number>;
  /** The held-out rows' classes, scored as the model is. */
  readonly labels: ArrayLike<number>;
  /** Number of classes (2 for binary). */
  readonly numClasses: number;
}

/** The prior's report on the held-out rows, with what it predicts. */
export interface ClassifierBaseline extends ClassifierReport {
  /** The training split's most frequent class (the first of equally frequent ones): every row's answer. */
  readonly majorityClass: number;
  /** The training split's class frequencies: every row's probabilities. */
  readonly classFrequencies: number[];
}

/** Options for {@link regressorBaseline}. */
export interface RegressorBaselineOptions {
  /** The training split's targets: the baseline predicts their mean. */
  readonly trainingTargets: ArrayLike<number>;
  /** The held-out rows' targets. */
  readonly targets: ArrayLike<number>;
}

/** The training mean's report on the held-out rows. */
export interface RegressorBaseline extends RegressorReport {
  /** The training mean: every row's prediction. */
  readonly mean: number;
}

/**
 * Scores the prior (the training class frequencies, hence always the majority class) on the
 * held-out labels: accuracy is the majority class's share, balanced accuracy and macro recall
 * `1 / classes present`, ROC-AUC 0.5, PR-AUC the positive rate.
 *
 * @example
 * ```ts
 * const baseline = classifierBaseline({ trainingLabels: [0, 0, 0, 1], labels: [0, 1], numClasses: 2 })
 * baseline.majorityClass // 0
 * baseline.accuracy // 0.5
 * ```
 */
export function classifierBaseline(options: ClassifierBaselineOptions): ClassifierBaseline {
  const { trainingLabels, labels, numClasses } = options;
  checkClassLabels({ name: 'trainingLabels', labels: trainingLabels, numClasses });
  if (trainingLabels.length === 0)
    throw new StratumError('BAD_REQUEST', 'trainingLabels: needs at least one row, got 0');
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < trainingLabels.length; i++) {
    const label = trainingLabels[i] as number;
    counts[label] = (counts[label] as number) + 1;
  }
  const classFrequencies = counts.map((count) => count / trainingLabels.length);
  const majorityClass = counts.indexOf(Math.max(...counts));
  const probabilities = new Float64Array(labels.length * numClasses);
  for (let i = 0; i < probabilities.length; i++) probabilities[i] = classFrequencies[i % numClasses] as number;
  const report = evaluateClassifier({ labels, probabilities, numClasses });
  return { ...report, majorityClass, classFrequencies };
}

/**
 * Scores the training mean on the held-out targets: its R² is 0 when the held-out mean equals the
 * training mean, slightly below otherwise.
 *
 * @example
 * ```ts
 * regressorBaseline({ trainingTargets: [1, 3], targets: [1, 3] }).rmse // 1
 * ```
 */
export function regressorBaseline(options: RegressorBaselineOptions): RegressorBaseline {
  const { trainingTargets, targets } = options;
  checkFinite({ name: 'trainingTargets', values: trainingTargets });
  if (trainingTargets.length === 0) {
    throw new StratumError('BAD_REQUEST', 'trainingTargets: needs at least one row, got 0');
  }
  let sum = 0;
  for (let i = 0; i < trainingTargets.length; i++) sum += trainingTargets[i] as number;
  const mean = sum / trainingTargets.length;
  const report = evaluateRegressor({ targets, predictions: new Float64Array(targets.length).fill(mean) });
  return { ...report, mean };
}
