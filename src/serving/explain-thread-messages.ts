/** Messages between a version's explainer and its explain thread (`explain-thread.ts`). */
import type { ThreadFailure } from '../errors/thread-failure.ts';

/** What the thread is started with (its `workerData`): the model whose explainer it builds. */
export interface ExplainThreadData {
  readonly bytes: Uint8Array;
  /** `model "iris" version 3`, for messages. */
  readonly target: string;
}

/** SHAP values of a block of feature rows (row-major `rows × F`, transferred). */
export interface ExplainThreadRequest {
  readonly id: number;
  readonly features: Float32Array;
}

/** The values (row-major `rows × outputs × F`, transferred) and the base per output, or the failure. */
export type ExplainThreadReply =
  | { readonly id: number; readonly ok: true; readonly values: Float64Array; readonly base: readonly number[] }
  | ({ readonly id: number; readonly ok: false } & ThreadFailure);
