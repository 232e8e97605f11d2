/**
 * The signature a training spec's model will have, known before any data is read: one input per raw
 * column the features read (`[batch, 1]`, FP32, FP64 for dates, BYTES for strings) and the outputs
 * every trainer exports for the objective (`label` and `probabilities`, or `predictions`). A
 * multiclass model's number of classes comes from the data, so its width is left open (-1) here.
 * `runTraining` checks a registration behind an alias with it before training starts.
 */
import { StratumError } from '../../errors/index.ts';
import { rawInputsOf } from '../../features/fit.ts';
import type { ValueSpec } from '../../onnx/graph-builder.ts';
import { DATA_TYPE } from '../../onnx/onnx-proto.ts';
import { DATATYPE_NAMES, DATATYPES, type Datatype } from '../../tensor/datatypes.ts';
import type { Signature, TensorSpec } from '../../tensor/signature.ts';
import { modelOutputSpecs } from '../common/output-head.ts';
import type { TrainSpec } from './train-spec.ts';

/**
 * The signature of the model `spec` trains (see the module comment).
 *
 * @example
 * ```ts
 * expectedSignature(await readTrainSpec('examples/spam/logistic.yaml'))
 * // inputs: text BYTES [-1, 1]; outputs: label INT64 [-1], probabilities FP32 [-1, 2]
 * ```
 */
export function expectedSignature(spec: Pick<TrainSpec, 'features' | 'model'>): Signature {
  const inputs = rawInputsOf(spec.features).map((input): TensorSpec => ({
    name: input.column,
    datatype: datatypeOf(input.type),
    shape: [-1, 1],
  }));
  const outputs = modelOutputSpecs({ objective: spec.model.objective, numClasses: -1, batchDim: 'batch' });
  return { inputs, outputs: outputs.map(toTensorSpec) };
}

function toTensorSpec(value: ValueSpec): TensorSpec {
  return {
    name: value.name,
    datatype: datatypeOf(value.type),
    shape: (value.shape ?? []).map((dim) => (typeof dim === 'number' ? dim : -1)),
  };
}

/** The OIP datatype of an ONNX element type name, from the one datatype table. */
function datatypeOf(type: keyof typeof DATA_TYPE): Datatype {
  const onnx = DATA_TYPE[type];
  const name = DATATYPE_NAMES.find((candidate) => DATATYPES[candidate].onnx === onnx);
  if (name === undefined) throw new StratumError('INTERNAL', `no inference protocol datatype for ONNX ${type}`);
  return name;
}
