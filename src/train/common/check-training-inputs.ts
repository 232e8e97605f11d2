/**
 * Checks the data of a training request once, before any work, so a bad row fails fast as
 * BAD_REQUEST naming the row (`features: row 7, …`) or the parameter (`numClasses`). Parameters
 * are checked by each trainer's schema (`param-schema.ts`).
 */
import { StratumError } from '../../errors/index.ts';
import { trainingObjective, type TrainingObjective } from './objective.ts';
import { parseOption } from './param-schema.ts';

function bad(message: string, details: Record<string, unknown>): StratumError {
  return new StratumError('BAD_REQUEST', message, { details });
}

/** Throws unless `value` is a number satisfying `ok`. */
export function checkNumber(options: {
  name: string;
  value: number;
  ok: (value: number) => boolean;
  expected: string;
}): void {
  const { name, value, ok, expected } = options;
  if (typeof value !== 'number' || !ok(value)) {
    throw bad(`${name} must be ${expected}, got ${String(value)}`, { parameter: name, received: String(value) });
  }
}

/** Throws unless `features` is `rows×numFeatures` finite values; returns the row count. */
export function checkFeatures(options: {
  name: string;
  features: Float32Array;
  numFeatures: number;
  /**
   * `false` checks the shape only: for a caller that tests finiteness in a pass of its own and
   * calls again with `true` when it found a bad value (to name it). @default true
   */
  finite?: boolean;
}): number {
  const { name, features, numFeatures } = options;
  if (!(features instanceof Float32Array)) {
    throw bad(`${name} must be a Float32Array (row-major N×F)`, { parameter: name });
  }
  const rows = features.length / numFeatures;
  if (!Number.isInteger(rows) || rows < 1) {
    throw bad(
      `${name} must hold N×numFeatures values with N ≥ 1, got ${features.length} values for numFeatures = ${numFeatures}`,
      { parameter: name, length: features.length, numFeatures },
    );
  }
  if (options.finite === false || allFinite(features)) return rows;
  for (let i = 0; i < features.length; i++) {
    const value = features[i] as number;
    if (!Number.isFinite(value)) {
      const row = Math.floor(i / numFeatures);
      const column = i % numFeatures;
      throw bad(
        `${name}: row ${row}, feature ${column} is ${value}; features must be finite (impute or drop the row)`,
        {
          parameter: name,
          row,
          feature: column,
          value: String(value),
        },
      );
    }
  }
  return rows;
}

/**
 * Whether no value is NaN or ±Infinity, tested on the float32 bits without a branch per value
 * (the exponent is all ones exactly for those): a quick pass over large matrices, whose first bad
 * value, if any, the caller then looks for.
 */
function allFinite(features: Float32Array): boolean {
  const bits = new Uint32Array(features.buffer, features.byteOffset, features.length);
  let flags = 0;
  // The 8-bit exponent plus one reaches bit 8 only when it is all ones.
  for (let i = 0; i < bits.length; i++) flags |= (((bits[i] as number) >>> 23) & 0xff) + 1;
  return (flags & 0x100) === 0;
}

/** Throws unless `labels` fit the objective, naming the first bad row. */
export function checkLabels(options: {
  name: string;
  labels: ArrayLike<number>;
  rows: number;
  target: { objective: TrainingObjective; numClasses: number };
}): void {
  const { name, labels, rows } = options;
  const { objective, numClasses } = options.target;
  if (labels === null || typeof labels !== 'object' || labels.length !== rows) {
    throw bad(`${name} must have one label per row (${rows}), got ${String(labels?.length)}`, {
      parameter: name,
      rows,
    });
  }
  for (let i = 0; i < rows; i++) {
    const label = labels[i] as number;
    const ok =
      objective === 'regression' ? Number.isFinite(label) : Number.isInteger(label) && label >= 0 && label < numClasses;
    if (!ok) {
      const expected = objective === 'regression' ? 'a finite number' : `an integer class in [0, ${numClasses - 1}]`;
      throw bad(`${name}: row ${i} is ${label}, expected ${expected}`, {
        parameter: name,
        row: i,
        value: String(label),
      });
    }
  }
}

/** Throws when a classification training set lacks a class the binary objective needs. */
export function checkBothClasses(options: { name: string; labels: ArrayLike<number> }): void {
  const { name, labels } = options;
  const first = labels[0];
  for (let i = 1; i < labels.length; i++) if (labels[i] !== first) return;
  throw bad(`${name}: every row has class ${first}; the binary objective needs rows of both classes 0 and 1`, {
    parameter: name,
    class: first,
  });
}

/** A held-out split: features and labels laid out like the training ones. */
export interface ValidationSplit {
  /** Row-major `N×numFeatures`. */
  readonly features: Float32Array;
  /** One label per row, as for training. */
  readonly labels: ArrayLike<number>;
}

/** The training data every gradient trainer takes and checks the same way. */
export interface TrainingInputs {
  /** Row-major `N×numFeatures`, finite values. */
  readonly features: Float32Array;
  /** Input width F. */
  readonly numFeatures: number;
  /** Targets (regression), 0/1 (binary) or class indices (multiclass). */
  readonly labels: ArrayLike<number>;
  /** What to fit. */
  readonly objective: TrainingObjective;
  /** Number of classes; required for `'multiclass'` (≥ 2), ignored otherwise. */
  readonly numClasses?: number;
}

/** Rows with their labels and their count. */
export interface TrainingData {
  readonly features: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly rows: number;
}

/** What {@link checkTrainingData} found. */
export interface CheckedTrainingData {
  /** Classes: 2 unless multiclass. */
  readonly numClasses: number;
  /** Model outputs: the class count for multiclass, else 1. */
  readonly numOutputs: number;
  readonly train: TrainingData;
  readonly validation: TrainingData | undefined;
}

/**
 * Checks the objective, the input width, the class count, the feature matrix and the labels (a
 * binary label needs both classes), and the validation split (`params.validation.*`) when given.
 */
export function checkTrainingData(
  inputs: TrainingInputs & {
    validation?: ValidationSplit;
    /** `false` leaves the training features' finiteness to the caller (see `checkFeatures`). @default true */
    finiteFeatures?: boolean;
  },
): CheckedTrainingData {
  const objective = parseOption({ schema: trainingObjective, input: inputs.objective, name: 'objective' });
  const { numFeatures } = inputs;
  checkNumber({
    name: 'numFeatures',
    value: numFeatures,
    ok: (v) => Number.isSafeInteger(v) && v >= 1,
    expected: 'an integer ≥ 1',
  });
  const { numClasses, rows } = checkTrainingInputs(inputs);
  const numOutputs = objective === 'multiclass' ? numClasses : 1;
  const train: TrainingData = { features: inputs.features, labels: inputs.labels, rows };
  const { validation } = inputs;
  if (validation === undefined) return { numClasses, numOutputs, train, validation: undefined };
  const validationRows = checkFeatures({
    name: 'params.validation.features',
    features: validation.features,
    numFeatures,
  });
  checkLabels({
    name: 'params.validation.labels',
    labels: validation.labels,
    rows: validationRows,
    target: { objective, numClasses },
  });
  return {
    numClasses,
    numOutputs,
    train,
    validation: { features: validation.features, labels: validation.labels, rows: validationRows },
  };
}

/**
 * Checks the class count, the feature matrix and the labels against the objective (a binary label
 * needs both classes); returns the class count (2 unless multiclass) and the number of rows.
 */
export function checkTrainingInputs(inputs: TrainingInputs & { finiteFeatures?: boolean }): {
  numClasses: number;
  rows: number;
} {
  const { objective, features, numFeatures, labels } = inputs;
  let numClasses = 2;
  if (objective === 'multiclass') {
    checkNumber({
      name: 'numClasses',
      value: inputs.numClasses as number,
      ok: (v) => Number.isSafeInteger(v) && v >= 2,
      expected: "an integer ≥ 2 for objective 'multiclass'",
    });
    numClasses = inputs.numClasses as number;
  }
  const rows = checkFeatures({ name: 'features', features, numFeatures, finite: inputs.finiteFeatures !== false });
  checkLabels({ name: 'labels', labels, rows, target: { objective, numClasses } });
  if (objective === 'binary') checkBothClasses({ name: 'labels', labels });
  return { numClasses, rows };
}
