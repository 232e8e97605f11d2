/**
 * Inference calls and answers as frames: everything but the tensor data in the JSON head, each
 * tensor's data as one blob in the binary extension's layout (raw little-endian numbers; BYTES
 * elements length-prefixed), decoded back into typed arrays by the extension's own decoder.
 */
import type { Datatype } from '../../tensor/datatypes.ts';
import { decodeBinaryTensor, encodeBinaryTensor } from '../../serving/protocol/tensor-binary.ts';
import type { InferInput, InferOutput, InferRequest, InferResponse } from '../../serving/types.ts';
import type { InferAnswer, InferCall } from './front-end-messages.ts';

type TensorHead<T> = Omit<T, 'data'>;

/** A call's head. */
export type CallHead = Omit<InferCall, 'request'> & {
  readonly request: Omit<InferRequest, 'inputs'> & { readonly inputs: readonly TensorHead<InferInput>[] };
};

/** An answer's head. */
export type AnswerHead =
  | (Omit<Extract<InferAnswer, { ok: true }>, 'response'> & {
      readonly response: Omit<InferResponse, 'outputs'> & { readonly outputs: readonly TensorHead<InferOutput>[] };
    })
  | Extract<InferAnswer, { ok: false }>;

// Frames come only from this server's own processes: the data was checked where it was decoded.
const NO_ELEMENT_LIMIT = Number.MAX_SAFE_INTEGER;

function tensorData(
  head: { name: string; datatype: Datatype; shape: readonly number[] },
  bytes: Uint8Array | undefined,
) {
  if (bytes === undefined) throw new Error(`frame: no data for tensor "${head.name}"`);
  return decodeBinaryTensor({ ...head, bytes, maxBytesElement: NO_ELEMENT_LIMIT });
}

/** A call as a frame. */
export function callToFrame(call: InferCall): [CallHead, Uint8Array[]] {
  const { inputs, ...rest } = call.request;
  const head: CallHead = {
    ...call,
    request: { ...rest, inputs: inputs.map(({ data: _data, ...input }) => input) },
  };
  return [head, inputs.map((input) => encodeBinaryTensor(input.data))];
}

/** A call from its frame. */
export function callFromFrame(head: CallHead, blobs: readonly Uint8Array[]): InferCall {
  const inputs = head.request.inputs.map((input, i) => ({ ...input, data: tensorData(input, blobs[i]) }));
  return { ...head, request: { ...head.request, inputs } };
}

/** An answer as a frame. */
export function answerToFrame(answer: InferAnswer): [AnswerHead, Uint8Array[]] {
  if (!answer.ok) return [answer, []];
  const { outputs, ...rest } = answer.response;
  return [
    { ...answer, response: { ...rest, outputs: outputs.map(({ data: _data, ...output }) => output) } },
    outputs.map((output) => encodeBinaryTensor(output.data)),
  ];
}

/** An answer from its frame. */
export function answerFromFrame(head: AnswerHead, blobs: readonly Uint8Array[]): InferAnswer {
  if (!head.ok) return head;
  const outputs = head.response.outputs.map((output, i) => ({ ...output, data: tensorData(output, blobs[i]) }));
  return { ...head, response: { ...head.response, outputs } };
}
