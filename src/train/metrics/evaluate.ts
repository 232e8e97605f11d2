/**
 * One-call evaluation of a model on a held-out split, returning a plain JSON-serialisable report
 * (no typed arrays, no NaN) that can be stored beside the model version in the registry.
 */
import { StratumError } from '../../errors/index.ts';
import {
  accuracy,
  balancedAccuracy,
  calibrationCurve,
  confusionMatrix,
  logLoss,
  prAuc,
  precisionRecallF1,
  rocAuc,
  type CalibrationBin,
  type ClassScores,
  type PrecisionRecallF1,
} from './classification-metrics.ts';
import { checkClassLabels, checkFinite } from './check-metric-inputs.ts';
import { mae, r2, rmse } from './regression-metrics.ts';

/** Options for {@link evaluateClassifier}. */
export interface EvaluateClassifierOptions {
  /** True classes, integers in `[0, numClasses)`. */
  readonly labels: ArrayLike<number>;
  /** Predicted class probabilities, row-major `N×numClasses`. */
  readonly probabilities: ArrayLike<number>;
  /** Number of classes (2 for binary). */
  readonly numClasses: number;
  /** Calibration bins (binary only). @default 10 */
  readonly calibrationBins?: number;
}

/** Report returned by {@link evaluateClassifier}. */
export interface ClassifierReport {
  readonly task: 'classification';
  readonly count: number;
  readonly numClasses: number;
  readonly accuracy: number;
  /** Mean recall over the classes present in the labels (0.5 for a binary model that always answers one class). */
  readonly balancedAccuracy: number;
  readonly logLoss: number;
  readonly perClass: readonly ClassScores[];
  readonly macro: PrecisionRecallF1;
  readonly weighted: PrecisionRecallF1;
  /** `confusionMatrix[trueClass][predictedClass]`. */
  readonly confusionMatrix: number[][];
  /** Binary: ROC-AUC of class 1. Multiclass: mean one-vs-rest ROC-AUC over classes present with both outcomes. `null` when undefined. */
  readonly rocAuc: number | null;
  /** Average precision, with the same binary / one-vs-rest rule as {@link ClassifierReport.rocAuc}. */
  readonly prAuc: number | null;
  /** Calibration of P(class 1); binary only, otherwise `null`. */
  readonly calibration: CalibrationBin[] | null;
}

/** Options for {@link evaluateRegressor}. */
export interface EvaluateRegressorOptions {
  /** True values. */
  readonly targets: ArrayLike<number>;
  /** Predicted values. */
  readonly predictions: ArrayLike<number>;
}

/** Report returned by {@link evaluateRegressor}. */
export interface RegressorReport {
  readonly task: 'regression';
  readonly count: number;
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number;
}

/**
 * Evaluates predicted class probabilities against true labels; the predicted class is the arg-max
 * (the first class on ties).
 *
 * @example
 * ```ts
 * const report = evaluateClassifier({ labels: [0, 1], probabilities: [0.8, 0.2, 0.3, 0.7], numClasses: 2 })
 * report.accuracy // 1
 * ```
 */
export function evaluateClassifier(options: EvaluateClassifierOptions): ClassifierReport {
  const { labels, probabilities, numClasses } = options;
  const n = labels.length;
  checkClassLabels({ name: 'labels', labels, numClasses });
  if (n === 0) throw new StratumError('BAD_REQUEST', 'labels: needs at least one row, got 0');
  if (probabilities.length !== n * numClasses) {
    throw new StratumError(
      'BAD_REQUEST',
      `probabilities must have N×numClasses = ${n}×${numClasses} values, got ${probabilities.length}`,
      { details: { expected: n * numClasses, received: probabilities.length } },
    );
  }
  checkFinite({ name: 'probabilities', values: probabilities });
  const predicted = new Int32Array(n);
  const columns = Array.from({ length: numClasses }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = probabilities[i * numClasses + c] as number;
      (columns[c] as Float64Array)[i] = p;
      if (p > (probabilities[i * numClasses + best] as number)) best = c;
    }
    predicted[i] = best;
  }
  const prf = precisionRecallF1(labels, predicted, { numClasses });
  const binary = numClasses === 2;
  const oneVsRest = (metric: (scores: ArrayLike<number>, labels: ArrayLike<number>) => number): number | null => {
    const classes = binary ? [1] : Array.from({ length: numClasses }, (_, c) => c);
    const values: number[] = [];
    for (const c of classes) {
      const isClass = Uint8Array.from(labels, (label) => (label === c ? 1 : 0));
      const positives = isClass.reduce((sum, v) => sum + v, 0);
      if (positives === 0 || positives === n) continue;
      values.push(metric(columns[c] as Float64Array, isClass));
    }
    return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
  };
  const calibrationOptions = options.calibrationBins === undefined ? {} : { bins: options.calibrationBins };
  return {
    task: 'classification',
    count: n,
    numClasses,
    accuracy: accuracy(labels, predicted),
    balancedAccuracy: balancedAccuracy(labels, predicted, { numClasses }),
    logLoss: logLoss(labels, probabilities),
    perClass: prf.perClass,
    macro: prf.macro,
    weighted: prf.weighted,
    confusionMatrix: confusionMatrix(labels, predicted, { numClasses }),
    rocAuc: oneVsRest(rocAuc),
    prAuc: oneVsRest(prAuc),
    calibration: binary
      ? calibrationCurve(
          Float64Array.from(columns[1] as Float64Array, (p) => Math.min(1, Math.max(0, p))),
          labels,
          calibrationOptions,
        )
      : null,
  };
}

/**
 * Evaluates predicted values against true targets.
 *
 * @example
 * ```ts
 * evaluateRegressor({ targets: [1, 2, 3], predictions: [1, 2, 4] }).mae // 1 / 3
 * ```
 */
export function evaluateRegressor(options: EvaluateRegressorOptions): RegressorReport {
  const { targets, predictions } = options;
  return {
    task: 'regression',
    count: targets.length,
    rmse: rmse(targets, predictions),
    mae: mae(targets, predictions),
    r2: r2(targets, predictions),
  };
}

/**
 * The scalar metrics of a report, named as runs and versions record them (`accuracy`,
 * `balanced_accuracy`, `f1_macro`, `roc_auc`…; `rmse`, `mae`, `r2`).
 *
 * @example
 * ```ts
 * summaryMetrics(evaluateRegressor({ targets: [1, 2, 3], predictions: [1, 2, 4] })).mae // 1 / 3
 * ```
 */
export function summaryMetrics(report: ClassifierReport | RegressorReport): Record<string, number> {
  if (report.task === 'regression') return { rmse: report.rmse, mae: report.mae, r2: report.r2 };
  return {
    accuracy: report.accuracy,
    balanced_accuracy: report.balancedAccuracy,
    log_loss: report.logLoss,
    f1_macro: report.macro.f1,
    precision_macro: report.macro.precision,
    recall_macro: report.macro.recall,
    ...(report.rocAuc !== null && { roc_auc: report.rocAuc }),
    ...(report.prAuc !== null && { pr_auc: report.prAuc }),
  };
}
