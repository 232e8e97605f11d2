/**
 * Classification metrics on a held-out split: accuracy, balanced accuracy, per-class
 * precision/recall/F1, confusion matrix, log-loss, ROC-AUC, PR-AUC (average precision) and a calibration curve. Labels are
 * integer classes `0..numClasses-1`; scores and probabilities are plain numbers, no tensors.
 */
import { StratumError } from '../../errors/index.ts';
import { checkClassLabels, checkFinite, checkSameLength } from './check-metric-inputs.ts';

/** Options for the metrics that need the number of classes. */
export interface ClassCountOptions {
  /** Number of classes (at least 2); labels and predictions are in `[0, numClasses)`. */
  readonly numClasses: number;
}

/** Precision, recall and F1 of one class or one average. */
export interface PrecisionRecallF1 {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** One class's scores and how many true rows it has. */
export interface ClassScores extends PrecisionRecallF1 {
  /** Class index. */
  readonly class: number;
  /** Number of rows whose true label is this class. */
  readonly support: number;
}

/** Result of {@link precisionRecallF1}. */
export interface PrecisionRecallF1Report {
  /** One entry per class, in class order. */
  readonly perClass: readonly ClassScores[];
  /** Unweighted mean over all classes. */
  readonly macro: PrecisionRecallF1;
  /** Mean over classes weighted by support. */
  readonly weighted: PrecisionRecallF1;
}

/** Options for {@link logLoss}. */
export interface LogLossOptions {
  /** Probabilities are clipped to `[epsilon, 1 - epsilon]` so one confident mistake stays finite. @default 1e-15 */
  readonly epsilon?: number;
}

/** Options for {@link calibrationCurve}. */
export interface CalibrationCurveOptions {
  /** Number of equal-width bins over `[0, 1]`. @default 10 */
  readonly bins?: number;
}

/** One bin of a calibration curve. */
export interface CalibrationBin {
  /** Lower edge (inclusive). */
  readonly lower: number;
  /** Upper edge (exclusive, except for the last bin, which includes 1). */
  readonly upper: number;
  /** Number of rows whose probability falls in the bin. */
  readonly count: number;
  /** Mean predicted probability in the bin; `null` when the bin is empty. */
  readonly meanPredicted: number | null;
  /** Fraction of rows in the bin whose label is 1; `null` when the bin is empty. */
  readonly fractionPositive: number | null;
}

/**
 * Fraction of rows where the predicted class equals the true class.
 *
 * @example
 * ```ts
 * accuracy([0, 1, 1], [0, 1, 0]) // 2 / 3
 * ```
 */
export function accuracy(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const n = checkSameLength({ name: 'labels', values: labels }, { name: 'predicted', values: predicted });
  let correct = 0;
  for (let i = 0; i < n; i++) if (labels[i] === predicted[i]) correct++;
  return correct / n;
}

/**
 * Mean recall over the classes present in `labels` (scikit-learn's `balanced_accuracy_score`): on
 * imbalanced data it tells a model from one that always answers the majority class, which scores
 * `1 / classes present` whatever the imbalance.
 *
 * @example
 * ```ts
 * balancedAccuracy([0, 0, 0, 1], [0, 0, 0, 0], { numClasses: 2 }) // (1 + 0) / 2
 * ```
 */
export function balancedAccuracy(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: ClassCountOptions,
): number {
  const matrix = confusionMatrix(labels, predicted, options);
  let present = 0;
  let recalls = 0;
  for (const [c, row] of matrix.entries()) {
    const support = row.reduce((sum, count) => sum + count, 0);
    if (support === 0) continue;
    present++;
    recalls += (row[c] as number) / support;
  }
  return recalls / present;
}

/**
 * Confusion matrix: `matrix[trueClass][predictedClass]` counts rows.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 0, 1], { numClasses: 2 }) // [[1, 0], [1, 1]]
 * ```
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: ClassCountOptions,
): number[][] {
  const n = checkSameLength({ name: 'labels', values: labels }, { name: 'predicted', values: predicted });
  const { numClasses } = options;
  checkClassLabels({ name: 'labels', labels, numClasses });
  checkClassLabels({ name: 'predicted', labels: predicted, numClasses });
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < n; i++) {
    const row = matrix[labels[i] as number] as number[];
    const column = predicted[i] as number;
    row[column] = (row[column] as number) + 1;
  }
  return matrix;
}

/**
 * Per-class precision, recall and F1 with macro and support-weighted averages. A class that is
 * never predicted has precision 0 (and a class with no true rows recall 0), as in scikit-learn.
 */
export function precisionRecallF1(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: ClassCountOptions,
): PrecisionRecallF1Report {
  const matrix = confusionMatrix(labels, predicted, options);
  const { numClasses } = options;
  const perClass: ClassScores[] = [];
  for (let c = 0; c < numClasses; c++) {
    const truePositive = matrix[c]?.[c] ?? 0;
    let support = 0;
    let predictedCount = 0;
    for (let other = 0; other < numClasses; other++) {
      support += matrix[c]?.[other] ?? 0;
      predictedCount += matrix[other]?.[c] ?? 0;
    }
    const precision = predictedCount === 0 ? 0 : truePositive / predictedCount;
    const recall = support === 0 ? 0 : truePositive / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ class: c, precision, recall, f1, support });
  }
  const total = labels.length;
  const average = (weight: (scores: ClassScores) => number): PrecisionRecallF1 => ({
    precision: perClass.reduce((sum, s) => sum + weight(s) * s.precision, 0),
    recall: perClass.reduce((sum, s) => sum + weight(s) * s.recall, 0),
    f1: perClass.reduce((sum, s) => sum + weight(s) * s.f1, 0),
  });
  return {
    perClass,
    macro: average(() => 1 / numClasses),
    weighted: average((s) => s.support / total),
  };
}

/**
 * Mean negative log-likelihood of the true class. `probabilities` is row-major `N×K`; with
 * `K = 1` each value is the probability of class 1 (binary).
 *
 * @example
 * ```ts
 * logLoss([1, 0], [0.9, 0.2]) // -(ln 0.9 + ln 0.8) / 2
 * ```
 */
export function logLoss(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  options: LogLossOptions = {},
): number {
  const n = labels.length;
  if (n === 0) throw new StratumError('BAD_REQUEST', 'labels: needs at least one row, got 0');
  const width = probabilities.length / n;
  if (!Number.isInteger(width) || width < 1) {
    throw new StratumError(
      'BAD_REQUEST',
      `probabilities must have N×K values for N = ${n} labels, got ${probabilities.length}`,
      { details: { labels: n, probabilities: probabilities.length } },
    );
  }
  checkFinite({ name: 'probabilities', values: probabilities });
  checkClassLabels({ name: 'labels', labels, numClasses: Math.max(width, 2) });
  const epsilon = options.epsilon ?? 1e-15;
  const clip = (p: number): number => Math.min(1 - epsilon, Math.max(epsilon, p));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i] as number;
    const p =
      width === 1
        ? label === 1
          ? (probabilities[i] as number)
          : 1 - (probabilities[i] as number)
        : (probabilities[i * width + label] as number);
    total -= Math.log(clip(p));
  }
  return total / n;
}

/**
 * Area under the ROC curve for binary labels (0/1) and scores where higher means class 1. Tied
 * scores get their average rank (the Mann–Whitney form), which equals the trapezoid rule over
 * the ROC curve, so a tie between a positive and a negative counts one half.
 *
 * @throws StratumError BAD_REQUEST when only one class is present (the AUC is undefined).
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkSameLength({ name: 'scores', values: scores }, { name: 'labels', values: labels });
  checkFinite({ name: 'scores', values: scores });
  checkClassLabels({ name: 'labels', labels, numClasses: 2 });
  const positives = countPositives(labels, 'rocAuc');
  const order = sortedIndices(scores, 'ascending');
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    const score = scores[order[start] as number] as number;
    while (end < n && scores[order[end] as number] === score) end++;
    // Ranks are 1-based; a tie group covering positions start..end-1 shares their mean rank.
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (labels[order[k] as number] === 1) positiveRankSum += averageRank;
    start = end;
  }
  const negatives = n - positives;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Area under the precision–recall curve as average precision: `Σ (Rₙ − Rₙ₋₁) · Pₙ` over distinct
 * score thresholds, highest first (scikit-learn's definition; no interpolation).
 *
 * @throws StratumError BAD_REQUEST when there is no positive row.
 */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkSameLength({ name: 'scores', values: scores }, { name: 'labels', values: labels });
  checkFinite({ name: 'scores', values: scores });
  checkClassLabels({ name: 'labels', labels, numClasses: 2 });
  const positives = countPositives(labels, 'prAuc');
  const order = sortedIndices(scores, 'descending');
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let area = 0;
  for (let start = 0; start < n;) {
    const score = scores[order[start] as number] as number;
    let end = start;
    while (end < n && scores[order[end] as number] === score) {
      if (labels[order[end] as number] === 1) truePositives++;
      end++;
    }
    seen = end;
    const recall = truePositives / positives;
    area += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
    start = end;
  }
  return area;
}

/**
 * Reliability diagram for binary classifiers: rows are grouped into equal-width probability bins
 * and each bin reports its mean predicted probability against its observed fraction of positives.
 */
export function calibrationCurve(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: CalibrationCurveOptions = {},
): CalibrationBin[] {
  const n = checkSameLength({ name: 'probabilities', values: probabilities }, { name: 'labels', values: labels });
  checkClassLabels({ name: 'labels', labels, numClasses: 2 });
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new StratumError('BAD_REQUEST', `bins must be an integer >= 1, got ${bins}`);
  }
  const counts = new Array<number>(bins).fill(0);
  const sums = new Array<number>(bins).fill(0);
  const positives = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) {
      throw new StratumError('BAD_REQUEST', `probabilities: row ${i} is ${p}, expected a probability in [0, 1]`, {
        details: { row: i, value: String(p) },
      });
    }
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    counts[bin] = (counts[bin] as number) + 1;
    sums[bin] = (sums[bin] as number) + p;
    if (labels[i] === 1) positives[bin] = (positives[bin] as number) + 1;
  }
  return counts.map((count, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count,
    meanPredicted: count === 0 ? null : (sums[b] as number) / count,
    fractionPositive: count === 0 ? null : (positives[b] as number) / count,
  }));
}

function countPositives(labels: ArrayLike<number>, metric: string): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  if (positives === 0 || (metric === 'rocAuc' && positives === labels.length)) {
    throw new StratumError(
      'BAD_REQUEST',
      `${metric}: labels contain only class ${labels[0]}; the metric needs ${metric === 'rocAuc' ? 'both classes' : 'at least one positive'}`,
      { details: { positives, rows: labels.length } },
    );
  }
  return positives;
}

function sortedIndices(scores: ArrayLike<number>, direction: 'ascending' | 'descending'): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const sign = direction === 'ascending' ? 1 : -1;
  return order.sort((a, b) => sign * ((scores[a] as number) - (scores[b] as number)));
}
