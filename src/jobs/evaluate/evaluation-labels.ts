/**
 * The labels of evaluation rows as the model numbers them: a classifier's class index from its
 * class names (`stratum.classes`, written by training in index order), or `data.positive` for a
 * binary model; a regressor's target. A value the model has no class for is an error naming the
 * row, not a silently wrong score.
 */
import { StratumError } from '../../errors/index.ts';
import type { LabelledRows } from '../../train/run/read-training-data.ts';
import type { TrainSpec } from '../../train/run/train-spec.ts';
import type { ResolvedModel } from '../batch/batch-model.ts';

/** Options of {@link encodeEvaluationLabels}. */
export interface EncodeEvaluationLabelsOptions {
  readonly read: Pick<LabelledRows, 'rawLabels' | 'positionOf' | 'source'>;
  readonly task: 'classification' | 'regression';
  readonly model: Pick<ResolvedModel, 'label' | 'classes'>;
  readonly data: Pick<TrainSpec['data'], 'label' | 'positive'>;
}

/**
 * Each row's label: the class index, or the target.
 *
 * @throws StratumError BAD_REQUEST naming the source, the row, the column and the model's classes.
 */
export function encodeEvaluationLabels(options: EncodeEvaluationLabelsOptions): Float64Array {
  const { read, task, model, data } = options;
  const column = JSON.stringify(data.label);
  const labels = new Float64Array(read.rawLabels.length);
  const fail = (i: number, message: string): never => {
    throw new StratumError('BAD_REQUEST', `${read.source}: ${read.positionOf(i)}: column ${column}: ${message}`, {
      details: { column: data.label, model: model.label },
    });
  };
  if (task === 'regression') {
    read.rawLabels.forEach((value, i) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(i, `a regression label must be a finite number, got ${JSON.stringify(value)}`);
      }
      labels[i] = value as number;
    });
    return labels;
  }
  const { positive } = data;
  const classes = model.classes;
  if (positive !== undefined) {
    if (classes !== undefined && classes.length !== 2) {
      throw new StratumError(
        'BAD_REQUEST',
        `data.positive: model ${model.label} has ${classes.length} classes (${classes.join(', ')}); positive applies to a binary model`,
      );
    }
    read.rawLabels.forEach((value, i) => (labels[i] = String(value) === String(positive) ? 1 : 0));
    return labels;
  }
  if (classes === undefined) {
    // A model without class names numbers its classes: the labels must be those numbers.
    read.rawLabels.forEach((value, i) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        fail(
          i,
          `model ${model.label} names no classes, so a label must be a class index, got ${JSON.stringify(value)}`,
        );
      }
      labels[i] = value as number;
    });
    return labels;
  }
  const index = new Map(classes.map((name, k) => [name, k]));
  read.rawLabels.forEach((value, i) => {
    const k = index.get(String(value));
    if (k === undefined) {
      fail(
        i,
        `${JSON.stringify(value)} is not a class of model ${model.label} (classes: ${classes.map((c) => JSON.stringify(c)).join(', ')})${classes.length === 2 ? '; for a binary model, data.positive names the positive value' : ''}`,
      );
    }
    labels[i] = k as number;
  });
  return labels;
}
