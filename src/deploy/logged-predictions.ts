/**
 * What a logged request predicted, read from its logged outputs, and whether a label fits it. A
 * model is a classifier when it outputs a class (an integer, string or boolean tensor: sklearn's
 * `label`), or probabilities of two or more classes (a float tensor [rows, k ≥ 2], whose argmax is
 * the class); otherwise a regressor, whose first float output (one value per row) is the
 * prediction. Labels are checked against that: a class of the predictions' kind (integer index,
 * string or boolean), or a finite number for a regressor; one per row.
 */
import type { ClassValue } from '../monitor/quality-math.ts';
import type { LabelValue, LoggedTensor } from '../store/inference-log-store.ts';

/** The predictions of one logged request. */
export interface LoggedPredictions {
  readonly task: 'classification' | 'regression';
  readonly predicted: readonly ClassValue[];
  /** Class probabilities per row (column k: class index k), when the model outputs them. */
  readonly scores?: readonly (readonly number[])[];
  /** What kind of value a label must be. */
  readonly labelKind: 'integer' | 'string' | 'boolean' | 'number';
  /** With probabilities and integer classes: labels must be below this. */
  readonly classes?: number;
}

const FLOAT = /^(FP16|FP32|FP64|BF16)$/;
const INTEGER = /^U?INT(8|16|32|64)$/;

function rowsOf(tensor: LoggedTensor): number {
  return tensor.shape.length === 0 ? 1 : (tensor.shape[0] ?? 1);
}

function matrix(tensor: LoggedTensor): number[][] {
  const rows = rowsOf(tensor);
  const width = rows === 0 ? 0 : tensor.data.length / rows;
  return Array.from({ length: rows }, (_, r) => tensor.data.slice(r * width, (r + 1) * width).map(Number));
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
}

/** The predictions of a logged request, or undefined when its outputs hold none this can read. */
export function predictionsOf(outputs: Readonly<Record<string, LoggedTensor>>): LoggedPredictions | undefined {
  const tensors = Object.values(outputs);
  const probabilities = tensors.find((t) => FLOAT.test(t.datatype) && t.shape.length === 2 && (t.shape[1] ?? 0) >= 2);
  const classTensor = tensors.find((t) => !FLOAT.test(t.datatype));
  if (classTensor !== undefined) {
    const kind = INTEGER.test(classTensor.datatype)
      ? 'integer'
      : classTensor.datatype === 'BOOL'
        ? 'boolean'
        : 'string';
    const predicted = kind === 'boolean' ? classTensor.data.map((v) => v === true || v === 1) : classTensor.data;
    const scores =
      probabilities !== undefined && rowsOf(probabilities) === predicted.length ? matrix(probabilities) : undefined;
    return { task: 'classification', predicted, labelKind: kind, ...(scores !== undefined && { scores }) };
  }
  if (probabilities !== undefined) {
    const scores = matrix(probabilities);
    return {
      task: 'classification',
      predicted: scores.map(argmax),
      scores,
      labelKind: 'integer',
      classes: probabilities.shape[1] as number,
    };
  }
  const value = tensors.find((t) => FLOAT.test(t.datatype));
  if (value === undefined || value.data.length !== rowsOf(value)) return undefined;
  return { task: 'regression', predicted: value.data.map(Number), labelKind: 'number' };
}

function fits(value: unknown, p: LoggedPredictions): boolean {
  switch (p.labelKind) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        (p.classes === undefined || (value >= 0 && value < p.classes))
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
  }
}

const KIND_TEXT = {
  number: 'a finite number (regression)',
  integer: 'an integer class',
  boolean: 'true or false',
  string: 'a string class',
} as const;

/** The label's values, one per row, or why it does not fit the predictions. */
export function checkLabel(
  p: LoggedPredictions,
  label: LabelValue,
): { ok: true; values: ClassValue[] } | { ok: false; reason: string } {
  const rows = p.predicted.length;
  const values = Array.isArray(label) ? (label as readonly unknown[]) : [label];
  if (values.length !== rows) {
    return {
      ok: false,
      reason: `the request had ${rows} row(s): give one label per row${rows === 1 ? '' : ' as an array'}, got ${values.length}`,
    };
  }
  const bad = values.findIndex((v) => !fits(v, p));
  if (bad >= 0) {
    const range = p.classes !== undefined && p.labelKind === 'integer' ? ` from 0 to ${p.classes - 1}` : '';
    return {
      ok: false,
      reason: `wrong label type: expected ${KIND_TEXT[p.labelKind]}${range} for a ${p.task} model, got ${JSON.stringify(values[bad])}`,
    };
  }
  return { ok: true, values: values as ClassValue[] };
}
