/**
 * The live quality metrics, computed from predictions and labels: accuracy, AUC and F1 for
 * classifiers, RMSE and MAE for regressors. Plain functions over arrays; `null` where a metric
 * is undefined on the data (AUC with one class, or without scores).
 */

/** A class: an integer index or a label as the model outputs it. */
export type ClassValue = number | string | boolean;

/** Classification metrics. */
export interface ClassificationMetrics {
  readonly accuracy: number;
  /** Binary: area under the ROC curve of the positive class's score; multiclass: the one-vs-rest macro average. */
  readonly auc: number | null;
  /** Binary (classes 0/1 or false/true): F1 of the positive class; otherwise the macro average over the classes labels name. */
  readonly f1: number;
}

/** Regression metrics. */
export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
}

/** Share of rows whose prediction equals the label. */
export function accuracy(predicted: readonly ClassValue[], labels: readonly ClassValue[]): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right++;
  return labels.length === 0 ? Number.NaN : right / labels.length;
}

function f1Of(predicted: readonly ClassValue[], labels: readonly ClassValue[], positive: ClassValue): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predicted[i] === positive;
    const l = labels[i] === positive;
    if (p && l) tp++;
    else if (p) fp++;
    else if (l) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

function isBinary(values: Iterable<ClassValue>): { positive: ClassValue } | undefined {
  const set = new Set(values);
  if ([...set].every((v) => v === 0 || v === 1)) return { positive: 1 };
  if ([...set].every((v) => v === false || v === true)) return { positive: true };
  return undefined;
}

/** F1: binary when every class is 0/1 (or false/true), else macro over the labels' classes. */
export function f1Score(predicted: readonly ClassValue[], labels: readonly ClassValue[]): number {
  const binary = isBinary([...predicted, ...labels]);
  if (binary !== undefined) return f1Of(predicted, labels, binary.positive);
  const classes = [...new Set(labels)];
  if (classes.length === 0) return Number.NaN;
  return classes.reduce<number>((sum, c) => sum + f1Of(predicted, labels, c), 0) / classes.length;
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative (ties count half), from the rank sum (Mann–Whitney U). Null without both classes.
 */
export function rocAuc(scores: readonly number[], positives: readonly boolean[]): number | null {
  const order = scores.map((s, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < positives.length; i++) {
    if (positives[i]) {
      nPos++;
      rankSum += ranks[i] as number;
    }
  }
  const nNeg = positives.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Classification metrics. `scores` (optional) holds each row's class probabilities, column k for
 * class index k; AUC needs them and integer labels.
 */
export function classificationMetrics(options: {
  predicted: readonly ClassValue[];
  labels: readonly ClassValue[];
  scores?: readonly (readonly number[])[] | undefined;
}): ClassificationMetrics {
  const { predicted, labels, scores } = options;
  return { accuracy: accuracy(predicted, labels), auc: aucOf(labels, scores), f1: f1Score(predicted, labels) };
}

function aucOf(labels: readonly ClassValue[], scores: readonly (readonly number[])[] | undefined): number | null {
  if (scores === undefined || scores.length !== labels.length || labels.length === 0) return null;
  const columns = scores[0]?.length ?? 0;
  if (columns < 2 || !labels.every((l) => typeof l === 'number' && Number.isInteger(l) && l >= 0 && l < columns)) {
    return null;
  }
  if (columns === 2)
    return rocAuc(
      scores.map((row) => row[1] ?? 0),
      labels.map((l) => l === 1),
    );
  const aucs: number[] = [];
  for (let c = 0; c < columns; c++) {
    const auc = rocAuc(
      scores.map((row) => row[c] ?? 0),
      labels.map((l) => l === c),
    );
    if (auc !== null) aucs.push(auc);
  }
  return aucs.length === 0 ? null : aucs.reduce((a, b) => a + b, 0) / aucs.length;
}

/** Root mean squared error and mean absolute error. */
export function regressionMetrics(predicted: readonly number[], labels: readonly number[]): RegressionMetrics {
  let squares = 0;
  let absolutes = 0;
  for (let i = 0; i < labels.length; i++) {
    const error = (predicted[i] as number) - (labels[i] as number);
    squares += error * error;
    absolutes += Math.abs(error);
  }
  const n = labels.length;
  return n === 0 ? { rmse: Number.NaN, mae: Number.NaN } : { rmse: Math.sqrt(squares / n), mae: absolutes / n };
}
