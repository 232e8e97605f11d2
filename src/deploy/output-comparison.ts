/**
 * Decides whether two answers to the same request agree — for a shadow or a canary compared with
 * the live version. For a classifier (a floating-point output whose last dimension has more than
 * one entry) the answers agree when every row picks the same class; otherwise every element must
 * match within a tolerance. The largest absolute difference is reported either way.
 */
import type { InferResponse } from '../serving/types.ts';

/** Result of {@link compareOutputs}. */
export interface Comparison {
  readonly agree: boolean;
  /** Largest |a − b| over numeric elements (0 for BYTES). */
  readonly maxAbsDiff: number;
}

const ABSOLUTE_TOLERANCE = 1e-4;
const RELATIVE_TOLERANCE = 1e-3;

/** Compares the outputs the two responses have in common. */
export function compareOutputs(live: InferResponse, other: InferResponse): Comparison {
  let agree = true;
  let maxAbsDiff = 0;
  for (const a of live.outputs) {
    const b = other.outputs.find((o) => o.name === a.name);
    if (b === undefined || b.datatype !== a.datatype || b.shape.join() !== a.shape.join()) {
      agree = false;
      continue;
    }
    if (Array.isArray(a.data) || Array.isArray(b.data) || a.datatype === 'BYTES') {
      const x = a.data as ArrayLike<unknown>;
      const y = b.data as ArrayLike<unknown>;
      for (let i = 0; i < x.length && agree; i++) if (String(x[i]) !== String(y[i])) agree = false;
      continue;
    }
    const x = a.data as ArrayLike<number | bigint>;
    const y = b.data as ArrayLike<number | bigint>;
    const classes = a.shape[a.shape.length - 1] ?? 1;
    const isClassifier = (a.datatype === 'FP32' || a.datatype === 'FP64' || a.datatype === 'FP16') && classes > 1;
    let rowBestA = 0;
    let rowBestB = 0;
    for (let i = 0; i < x.length; i++) {
      const u = Number(x[i]);
      const v = Number(y[i]);
      const diff = Math.abs(u - v);
      if (diff > maxAbsDiff || Number.isNaN(diff)) maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
      if (isClassifier) {
        const col = i % classes;
        if (col === 0) {
          rowBestA = i;
          rowBestB = i;
        } else {
          if (u > Number(x[rowBestA])) rowBestA = i;
          if (v > Number(y[rowBestB])) rowBestB = i;
        }
        if (col === classes - 1 && rowBestA !== rowBestB) agree = false;
      } else if (!(diff <= ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.abs(v))) {
        agree = false;
      }
    }
  }
  return { agree, maxAbsDiff };
}
