/**
 * Checks a decoded request against a model version's signature: every input present once, with
 * the right datatype and a shape that fits, and every requested output known. Messages name the
 * input and say what was expected and what was received.
 */
import { StratumError } from '../errors/index.ts';
import type { Signature, TensorSpec } from '../tensor/signature.ts';
import type { InferInput, InferRequest } from './types.ts';

/** A request that fits the signature. */
export interface ValidatedRequest {
  /** Inputs in signature order. */
  readonly inputs: readonly InferInput[];
  /** Rows along dim 0 (1 when the model is not batched). */
  readonly rows: number;
  /** Non-batch dimensions of every input; requests with equal keys can share a batch. */
  readonly shapeKey: string;
  /** Names of the outputs to return, in order, with their binary flag. */
  readonly outputs: readonly { readonly name: string; readonly binary: boolean }[];
}

/** What {@link validateRequest} checks. */
export interface ValidateOptions {
  readonly request: InferRequest;
  readonly signature: Signature;
  /** Whether the model stacks requests along dim 0. */
  readonly batched: boolean;
  /** `model "mlp" version 1`, for messages. */
  readonly target: string;
}

/**
 * Validates a request.
 * @throws StratumError INVALID_INPUT or INVALID_OUTPUT.
 */
export function validateRequest(options: ValidateOptions): ValidatedRequest {
  const { request, signature, batched, target } = options;
  const given = new Map<string, InferInput>();
  for (const input of request.inputs) {
    if (given.has(input.name)) throw new StratumError('INVALID_INPUT', `input "${input.name}" is given more than once`);
    given.set(input.name, input);
  }
  for (const input of request.inputs) {
    if (!signature.inputs.some((s) => s.name === input.name)) {
      throw new StratumError(
        'INVALID_INPUT',
        `unexpected input "${input.name}": ${target} expects ${listSpecs(signature.inputs)}`,
        { details: { input: input.name } },
      );
    }
  }
  const ordered: InferInput[] = [];
  let rows = 1;
  let keyParts = '';
  let firstBatchInput: string | undefined;
  for (const spec of signature.inputs) {
    const input = given.get(spec.name);
    if (input === undefined) {
      throw new StratumError(
        'INVALID_INPUT',
        `missing input "${spec.name}": ${target} expects ${listSpecs(signature.inputs)}`,
        {
          details: { input: spec.name },
        },
      );
    }
    if (input.datatype !== spec.datatype) {
      throw new StratumError(
        'INVALID_INPUT',
        `input "${spec.name}": expected datatype ${spec.datatype}, got ${input.datatype}`,
        { details: { input: spec.name, expected: spec.datatype, received: input.datatype } },
      );
    }
    checkShape(spec, input.shape);
    checkElementCount(spec.name, input);
    if (spec.datatype === 'BYTES') checkStrings(spec.name, input.data as Uint8Array[]);
    if (batched) {
      const dim0 = input.shape[0] as number;
      if (dim0 < 1)
        throw new StratumError(
          'INVALID_INPUT',
          `input "${spec.name}": the batch dimension must be at least 1, got ${dim0}`,
        );
      if (firstBatchInput === undefined) {
        firstBatchInput = spec.name;
        rows = dim0;
      } else if (dim0 !== rows) {
        throw new StratumError(
          'INVALID_INPUT',
          `inputs "${firstBatchInput}" and "${spec.name}" disagree on the batch dimension: ${rows} and ${dim0}`,
        );
      }
      keyParts += `${input.shape.slice(1).join('x')};`;
    }
    ordered.push(input);
  }
  return { inputs: ordered, rows, shapeKey: keyParts, outputs: selectOutputs(request, signature, target) };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// onnxruntime's string tensors are C strings of UTF-8 text: a NUL ends the element and invalid
// UTF-8 cannot cross into JavaScript strings, so such elements would be altered silently.
function checkStrings(name: string, elements: readonly Uint8Array[]): void {
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i] as Uint8Array;
    if (element.includes(0)) {
      throw new StratumError(
        'INVALID_INPUT',
        `input "${name}": element ${i} contains a NUL byte, which the model's string tensors cannot carry`,
      );
    }
    try {
      strictUtf8.decode(element);
    } catch {
      throw new StratumError(
        'INVALID_INPUT',
        `input "${name}": element ${i} is not valid UTF-8 text, which the model's string tensors require`,
      );
    }
  }
}

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  const fits = shape.length === spec.shape.length && spec.shape.every((d, i) => d === -1 || d === shape[i]);
  if (!fits) {
    throw new StratumError(
      'INVALID_INPUT',
      `input "${spec.name}": expected shape [${spec.shape.join(',')}], got [${shape.join(',')}]`,
      { details: { input: spec.name, expected: spec.shape, received: shape } },
    );
  }
}

// The decoders already check this for requests off the wire; a request built in-process (a
// replayed or copied one) may not have been, and a tensor whose buffer was transferred away is empty.
function checkElementCount(name: string, input: InferInput): void {
  let expected = 1;
  for (const d of input.shape) expected *= d;
  if (input.data.length !== expected) {
    throw new StratumError(
      'INVALID_INPUT',
      `input "${name}": shape [${input.shape.join(',')}] needs ${expected} elements, got ${input.data.length}`,
    );
  }
}

function selectOutputs(request: InferRequest, signature: Signature, target: string): ValidatedRequest['outputs'] {
  if (request.outputs === undefined || request.outputs.length === 0) {
    return signature.outputs.map((o) => ({ name: o.name, binary: request.binaryOutputs }));
  }
  const seen = new Set<string>();
  for (const o of request.outputs) {
    if (!signature.outputs.some((s) => s.name === o.name)) {
      throw new StratumError(
        'INVALID_OUTPUT',
        `unknown output "${o.name}": ${target} has outputs ${listSpecs(signature.outputs)}`,
      );
    }
    if (seen.has(o.name)) throw new StratumError('INVALID_OUTPUT', `output "${o.name}" is requested more than once`);
    seen.add(o.name);
  }
  return request.outputs;
}

function listSpecs(specs: readonly TensorSpec[]): string {
  return `[${specs.map((s) => `"${s.name}" ${s.datatype} [${s.shape.join(',')}]`).join(', ')}]`;
}
