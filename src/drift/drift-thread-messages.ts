/** The messages between the drift runner and its thread. */
import type { ThreadFailure } from '../errors/thread-failure.ts';
import type { ComputeDriftInput, DriftVerdict } from './compute-drift.ts';

/** A comparison to run: the input of `computeDrift`, the current columns as entries. */
export interface DriftThreadRequest {
  readonly id: number;
  readonly references: ComputeDriftInput['references'];
  readonly current: readonly [string, ComputeDriftInput['current'] extends ReadonlyMap<string, infer C> ? C : never][];
  readonly config: ComputeDriftInput['config'];
}

/** Its verdict, or the error `computeDrift` threw. */
export type DriftThreadReply =
  | { readonly id: number; readonly ok: true; readonly verdict: DriftVerdict }
  | ({ readonly id: number; readonly ok: false } & ThreadFailure);
