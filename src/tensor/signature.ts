/**
 * A model version's signature: the names, datatypes and shapes of its inputs and outputs. Pure
 * data, here below every layer that speaks of it: the store keeps it with each version, the
 * registry compares it across versions, the ONNX reader derives it from a graph and serving
 * validates requests against it.
 */
import type { Datatype } from './datatypes.ts';

/** A tensor in a model's signature; -1 marks a dynamic dimension. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** A model version's inputs and outputs. */
export interface Signature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}
