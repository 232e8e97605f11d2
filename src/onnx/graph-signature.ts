/**
 * A model version's signature read straight from the ONNX graph, so the registry can validate an
 * upload and record its signature without loading it into onnxruntime (no worker, no native
 * memory, no execution of an untrusted graph). It must agree with what onnxruntime reports for
 * the same bytes (`signatureFromMetadata`); a test holds the two together on every fixture.
 */
import { StratumError } from '../errors/index.ts';
import type { Signature, TensorSpec } from '../tensor/signature.ts';
import { DATATYPE_NAMES, DATATYPES, type Datatype } from '../tensor/datatypes.ts';
import { OnnxDecodeError } from './onnx-decode-error.ts';
import { DATA_TYPE, decodeModel, type DecodedModel, type ValueInfoProto } from './onnx-proto.ts';

/** ONNX element type number → OIP datatype, derived from the one datatype table. */
const DATATYPE_BY_ONNX: ReadonlyMap<number, Datatype> = new Map(
  DATATYPE_NAMES.map((name) => [DATATYPES[name].onnx, name] as const),
);

/** ONNX element type number → its `TensorProto.DataType` name, for messages. */
const ONNX_TYPE_NAME: ReadonlyMap<number, string> = new Map(
  Object.entries(DATA_TYPE).map(([name, value]) => [value, name] as const),
);

type Role = 'input' | 'output';

/**
 * Reads the inputs and outputs an ONNX model declares, as onnxruntime would report them: graph
 * inputs that are also initializers are left out (older exporters list every weight as an
 * input; onnxruntime treats those as overridable constants, not inputs), and symbolic or unknown
 * dimensions become -1. A value with no shape at all gets `[]`, as onnxruntime reports it. A graph
 * without inputs (only constants) has an empty input list: it is served, called with `inputs: []`.
 *
 * @param bytes the content of a `.onnx` file; only parsed, never executed.
 * @throws StratumError INVALID_MODEL when the bytes are not an ONNX model (the message carries
 *   the parser's reason), when the graph has no outputs, or when an input or output
 *   is not a tensor or has an element type the inference protocol cannot carry (the message
 *   names the tensor).
 * @example
 * ```ts
 * const signature = signatureFromGraph(await readFile('model.onnx'))
 * // { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 784] }], outputs: [...] }
 * ```
 */
export function signatureFromGraph(bytes: Uint8Array): Signature {
  const { graph } = decode(bytes);
  const constants = new Set(graph.initializer.map((tensor) => tensor.name));
  const inputs = graph.input.filter((value) => value.name === undefined || !constants.has(value.name));
  if (graph.output.length === 0) throw new StratumError('INVALID_MODEL', 'the model has no graph outputs');
  return {
    inputs: inputs.map((value, index) => toSpec(value, { role: 'input', index })),
    outputs: graph.output.map((value, index) => toSpec(value, { role: 'output', index })),
  };
}

function decode(bytes: Uint8Array): DecodedModel {
  try {
    return decodeModel(bytes);
  } catch (err) {
    if (!(err instanceof OnnxDecodeError)) throw err;
    throw new StratumError('INVALID_MODEL', `not a valid ONNX model: ${err.reason}`, {
      cause: err,
      details: { reason: err.reason },
    });
  }
}

function toSpec(value: ValueInfoProto, position: { role: Role; index: number }): TensorSpec {
  const { role } = position;
  const name = value.name ?? '';
  const invalid = (what: string): StratumError =>
    new StratumError('INVALID_MODEL', `${role} "${name}" ${what}`, { details: { role, tensor: name } });
  if (name === '') {
    throw new StratumError('INVALID_MODEL', `${role} #${position.index} has no name`, {
      details: { role, index: position.index },
    });
  }
  const type = value.type;
  if (type === undefined) throw invalid('declares no type');
  const tensor = type.tensor_type;
  if (tensor === undefined) {
    const kind =
      type.sequence_type !== undefined
        ? 'a sequence'
        : type.map_type !== undefined
          ? 'a map'
          : type.optional_type !== undefined
            ? 'an optional'
            : 'of no known kind';
    throw invalid(`is ${kind}, not a tensor (sequences, maps and optionals are not served)`);
  }
  const elemType = tensor.elem_type ?? DATA_TYPE.UNDEFINED;
  if (elemType === DATA_TYPE.UNDEFINED) throw invalid('declares no element type');
  const datatype = DATATYPE_BY_ONNX.get(elemType);
  if (datatype === undefined) {
    throw invalid(
      `has element type ${ONNX_TYPE_NAME.get(elemType) ?? elemType}, which the inference protocol cannot carry`,
    );
  }
  // A `dim_param` (a symbol such as "batch") or a dimension with neither field is dynamic.
  const shape = (tensor.shape?.dim ?? []).map((dim) =>
    typeof dim.dim_value === 'number' && dim.dim_value >= 0 ? dim.dim_value : -1,
  );
  return { name, datatype, shape };
}
