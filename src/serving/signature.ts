/** A model version's signature, read from the metadata onnxruntime reports for its graph. */
import { StratumError } from '../errors/index.ts';
import type { WireValueMetadata } from '../runtime/messages.ts';
import { datatypeFromOrt } from '../tensor/datatypes.ts';
import type { Signature, TensorSpec } from '../tensor/signature.ts';

/**
 * Builds the signature; symbolic or unknown dimensions become -1.
 * @throws StratumError INVALID_MODEL for a non-tensor value or a datatype OIP cannot carry.
 */
export function signatureFromMetadata(
  inputs: readonly WireValueMetadata[],
  outputs: readonly WireValueMetadata[],
): Signature {
  return { inputs: inputs.map((m) => toSpec(m, 'input')), outputs: outputs.map((m) => toSpec(m, 'output')) };
}

function toSpec(meta: WireValueMetadata, role: 'input' | 'output'): TensorSpec {
  if (!meta.isTensor || meta.type === undefined) {
    throw new StratumError(
      'INVALID_MODEL',
      `${role} "${meta.name}" is not a tensor (sequences and maps are not served)`,
    );
  }
  const datatype = datatypeFromOrt(meta.type);
  if (datatype === undefined) {
    throw new StratumError(
      'INVALID_MODEL',
      `${role} "${meta.name}" has type ${meta.type}, which the inference protocol cannot carry`,
    );
  }
  const shape = (meta.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

/**
 * True when the model has inputs and every input and output has a dynamic first dimension, so
 * requests can be stacked. A model without inputs has no rows to stack: each call runs alone.
 */
export function hasDynamicBatchDimension(signature: Signature): boolean {
  const all = [...signature.inputs, ...signature.outputs];
  return signature.inputs.length > 0 && all.every((t) => t.shape.length > 0 && t.shape[0] === -1);
}
