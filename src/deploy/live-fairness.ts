/**
 * Live fairness: the card's fairness report (src/monitor/fairness.ts, one definition for both)
 * computed on labelled inference log records instead of the held-out split. Each row's group is
 * the logged value of the sensitive column among the request's inputs, so it is measured for a
 * sensitive column the model reads (an input), logged plainly or hashed (a hashed value still
 * separates the groups, under its hash); a column dropped by redaction or absent from the
 * request gives no rows.
 */
import {
  binaryFairness,
  type FairnessReport,
  groupOf,
  multiclassFairness,
  regressionFairness,
} from '../monitor/fairness.ts';
import type { ClassValue } from '../monitor/quality-math.ts';
import type { LoggedTensor } from '../store/inference-log-store.ts';
import type { LoggedPredictions } from './logged-predictions.ts';
import type { FairnessSettings } from './version-fairness.ts';

/** A labelled logged request. */
export interface LabelledRequest {
  readonly inputs: Readonly<Record<string, LoggedTensor>>;
  readonly predictions: LoggedPredictions;
  /** One per row. */
  readonly labels: readonly ClassValue[];
}

/**
 * One report per sensitive column that some request carries, over every row of `requests`.
 *
 * @example
 * ```ts
 * liveFairness({ requests, settings: { columns: ['group'], classes: ['deny', 'approve'] } })
 * // [{ column: 'group', task: 'binary', groups: [{ group: 'a', count: 40, selectionRate: 0.6, … }, …], … }]
 * ```
 */
export function liveFairness(args: {
  readonly requests: readonly LabelledRequest[];
  readonly settings: FairnessSettings;
}): FairnessReport[] {
  const { requests, settings } = args;
  const reports: FairnessReport[] = [];
  for (const column of settings.columns) {
    const groups: string[] = [];
    const predicted: ClassValue[] = [];
    const labels: ClassValue[] = [];
    for (const request of requests) {
      const tensor = request.inputs[column];
      const rows = request.predictions.predicted.length;
      // One value per row: a column of another shape is not a group.
      if (tensor === undefined || tensor.data.length !== rows) continue;
      for (let r = 0; r < rows; r++) {
        groups.push(groupOf(tensor.data[r]));
        predicted.push(request.predictions.predicted[r] as ClassValue);
        labels.push(request.labels[r] as ClassValue);
      }
    }
    if (groups.length === 0) continue;
    const task = (requests[0] as LabelledRequest).predictions;
    if (task.task === 'regression') {
      reports.push(
        regressionFairness({ column, groups, targets: labels.map(Number), predictions: predicted.map(Number) }),
      );
      continue;
    }
    const positive = positiveClass(task, settings, [...predicted, ...labels]);
    if (positive !== undefined) {
      const indicator = (values: ClassValue[]): number[] => values.map((v) => (v === positive ? 1 : 0));
      reports.push(binaryFairness({ column, groups, labels: indicator(labels), predictions: indicator(predicted) }));
    } else {
      const index = new Map<ClassValue, number>();
      const indices = (values: ClassValue[]): number[] =>
        values.map((v) => {
          if (!index.has(v)) index.set(v, index.size);
          return index.get(v) as number;
        });
      reports.push(multiclassFairness({ column, groups, labels: indices(labels), predictions: indices(predicted) }));
    }
  }
  return reports;
}

/**
 * The positive class of a binary classifier, or undefined for more classes: the second of the
 * version's two classes (training's index order), in the kind the predictions are logged as.
 */
function positiveClass(
  predictions: LoggedPredictions,
  settings: FairnessSettings,
  seen: readonly ClassValue[],
): ClassValue | undefined {
  const { classes } = settings;
  switch (predictions.labelKind) {
    case 'boolean':
      return true;
    case 'string':
      return classes?.length === 2 ? (classes[1] as ClassValue) : undefined;
    case 'integer':
      if (classes !== undefined) return classes.length === 2 ? 1 : undefined;
      if (predictions.classes !== undefined) return predictions.classes === 2 ? 1 : undefined;
      return seen.every((v) => v === 0 || v === 1) ? 1 : undefined;
    default:
      return undefined;
  }
}
