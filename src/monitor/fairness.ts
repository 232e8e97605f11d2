/**
 * Group fairness of a model on its held-out split, by the values of a sensitive column, with
 * Fairlearn's definitions: per group the count, selection rate (share predicted positive),
 * accuracy, true and false positive rates (binary) or RMSE and MAE (regression); across groups
 * the `between_groups` gaps — demographic parity difference (max − min selection rate) and ratio
 * (min / max), equalized odds difference (the larger of the TPR and FPR gaps), and for regression
 * the RMSE and MAE gaps. A rate a group cannot have (a TPR without positives) is left out of the
 * group and of the gap, where Fairlearn would give NaN.
 */

/** The metrics of one group of rows. */
export interface GroupMetrics {
  /** The sensitive column's value, as text (`(missing)` for an empty cell). */
  readonly group: string;
  readonly count: number;
  readonly selectionRate?: number;
  readonly accuracy?: number;
  readonly truePositiveRate?: number;
  readonly falsePositiveRate?: number;
  readonly rmse?: number;
  readonly mae?: number;
}

/** The fairness section of a model card for one sensitive column. */
export interface FairnessReport {
  readonly column: string;
  readonly task: 'binary' | 'multiclass' | 'regression';
  /** Groups in the order of their values (as text). */
  readonly groups: readonly GroupMetrics[];
  readonly demographicParityDifference?: number;
  readonly demographicParityRatio?: number;
  readonly equalizedOddsDifference?: number;
  /** max − min accuracy over the groups (classifiers). */
  readonly accuracyDifference?: number;
  readonly rmseDifference?: number;
  readonly maeDifference?: number;
}

/** The text a group is known by. */
export function groupOf(value: unknown): string {
  return value === null || value === undefined || value === '' ? '(missing)' : String(value);
}

/** Row indices by group, groups sorted. */
function partition(groups: readonly string[]): [string, number[]][] {
  const byGroup = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const rows = byGroup.get(group);
    if (rows === undefined) byGroup.set(group, [i]);
    else rows.push(i);
  });
  return [...byGroup.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** max − min of the defined values; undefined when fewer than one. */
function gap(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined) - Math.min(...defined);
}

/**
 * Fairness of a binary classifier: `labels` and `predictions` are 0/1 per row (the predicted
 * class at the model's 0.5 threshold), `groups` the sensitive value of each row.
 */
export function binaryFairness(args: {
  readonly column: string;
  readonly groups: readonly string[];
  readonly labels: ArrayLike<number>;
  readonly predictions: ArrayLike<number>;
}): FairnessReport {
  const { labels, predictions } = args;
  const groups = partition(args.groups).map(([group, rows]): GroupMetrics => {
    let selected = 0;
    let right = 0;
    let positives = 0;
    let truePositives = 0;
    let falsePositives = 0;
    for (const r of rows) {
      const y = labels[r] as number;
      const p = predictions[r] as number;
      selected += p;
      if (p === y) right++;
      positives += y;
      if (y === 1 && p === 1) truePositives++;
      if (y === 0 && p === 1) falsePositives++;
    }
    const negatives = rows.length - positives;
    return {
      group,
      count: rows.length,
      selectionRate: selected / rows.length,
      accuracy: right / rows.length,
      ...(positives > 0 && { truePositiveRate: truePositives / positives }),
      ...(negatives > 0 && { falsePositiveRate: falsePositives / negatives }),
    };
  });
  const rates = groups.map((g) => g.selectionRate as number);
  const highest = Math.max(...rates);
  const tprGap = gap(groups.map((g) => g.truePositiveRate));
  const fprGap = gap(groups.map((g) => g.falsePositiveRate));
  const odds = [tprGap, fprGap].filter((v): v is number => v !== undefined);
  return {
    column: args.column,
    task: 'binary',
    groups,
    demographicParityDifference: highest - Math.min(...rates),
    // Fairlearn's ratio is min/max; with no group selected at all both are 0 and parity is perfect.
    demographicParityRatio: highest === 0 ? 1 : Math.min(...rates) / highest,
    ...(odds.length > 0 && { equalizedOddsDifference: Math.max(...odds) }),
    accuracyDifference: gap(groups.map((g) => g.accuracy)) as number,
  };
}

/** Fairness of a multiclass classifier: per-group accuracy and its gap (class indices per row). */
export function multiclassFairness(args: {
  readonly column: string;
  readonly groups: readonly string[];
  readonly labels: ArrayLike<number>;
  readonly predictions: ArrayLike<number>;
}): FairnessReport {
  const groups = partition(args.groups).map(([group, rows]): GroupMetrics => {
    const right = rows.filter((r) => args.labels[r] === args.predictions[r]).length;
    return { group, count: rows.length, accuracy: right / rows.length };
  });
  return {
    column: args.column,
    task: 'multiclass',
    groups,
    accuracyDifference: gap(groups.map((g) => g.accuracy)) as number,
  };
}

/** Fairness of a regressor: per-group RMSE and MAE and their gaps. */
export function regressionFairness(args: {
  readonly column: string;
  readonly groups: readonly string[];
  readonly targets: ArrayLike<number>;
  readonly predictions: ArrayLike<number>;
}): FairnessReport {
  const groups = partition(args.groups).map(([group, rows]): GroupMetrics => {
    let squared = 0;
    let absolute = 0;
    for (const r of rows) {
      const error = (args.predictions[r] as number) - (args.targets[r] as number);
      squared += error * error;
      absolute += Math.abs(error);
    }
    return { group, count: rows.length, rmse: Math.sqrt(squared / rows.length), mae: absolute / rows.length };
  });
  return {
    column: args.column,
    task: 'regression',
    groups,
    rmseDifference: gap(groups.map((g) => g.rmse)) as number,
    maeDifference: gap(groups.map((g) => g.mae)) as number,
  };
}
