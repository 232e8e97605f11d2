/**
 * The payload of an `infer-async` job: the model, the v2 inference request, and where to send the
 * outcome. The request is always kept in the binary tensor extension's form — its JSON header and
 * the raw tensor bytes, as base64, with the header's length — whether the caller sent JSON or
 * binary: a JSON body is re-encoded once at submission from the request already decoded to check
 * it. Tensor data as one base64 string keeps it off every JSON path (the job row is half the size
 * of the JSON numbers, stringifying and parsing the payload is a string copy, not 12 544 numbers
 * printed and read back) and the worker decodes it in one step, straight into typed arrays. The
 * result is the v2 response as JSON (binary outputs are written as JSON data: a job result is JSON).
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { decodeRestInferRequest } from '../serving/protocol/rest-infer-request.ts';
import { encodeRestInferResponse } from '../serving/protocol/rest-infer-response.ts';
import { encodeBinaryTensor } from '../serving/protocol/tensor-binary.ts';
import type { InferRequest, InferResponse } from '../serving/types.ts';

/** The callback a caller asks for: a URL and, optionally, its own signing secret. */
export const CallbackTargetSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2048),
  /** Signs the callback (HMAC-SHA256); the server's `asyncInference.callbackSecret` otherwise. */
  secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
});

/** A callback target. */
export type CallbackTarget = z.output<typeof CallbackTargetSchema>;

/** `infer-async`: one inference request answered later. */
export const InferAsyncPayloadSchema = z.strictObject({
  model: z.string().min(1).max(128),
  version: z.string().min(1).max(32).optional(),
  /** A JSON body, as jobs queued before the binary form kept it (still run). */
  request: z.record(z.string(), z.unknown()).optional(),
  /** A binary-extension body: base64 of the whole body, and its JSON header's length. */
  binary: z.strictObject({ body: z.base64(), headerLength: z.number().int().min(0) }).optional(),
  callback: CallbackTargetSchema.optional(),
});

/** A validated `infer-async` payload. */
export type InferAsyncPayload = z.output<typeof InferAsyncPayloadSchema>;

/** What {@link inferAsyncPayload} builds a payload from: the route's view of the request. */
export interface InferAsyncSource {
  readonly model: string;
  readonly version?: string;
  /** The body as received. */
  readonly body: Buffer;
  /** The body decoded (at submission, to check it): a JSON body is stored re-encoded from it. */
  readonly decoded: InferRequest;
  /** `Inference-Header-Content-Length`, when the binary extension is used. */
  readonly headerLength?: number;
  readonly callback?: CallbackTarget;
}

/**
 * The job payload of an accepted request, in the binary form: a binary body as received, a JSON
 * body re-encoded from its decoded request (so its numbers are never printed or parsed again).
 */
export function inferAsyncPayload(source: InferAsyncSource): InferAsyncPayload {
  const { model, version, body, headerLength, callback } = source;
  const base = { model, ...(version !== undefined && { version }), ...(callback !== undefined && { callback }) };
  const binary = headerLength === undefined ? encodeBinaryRequest(source.decoded) : { body, headerLength };
  return { ...base, binary: { body: binary.body.toString('base64'), headerLength: binary.headerLength } };
}

/**
 * A decoded request as a binary-extension body that decodes back to the same request: every input
 * as raw bytes (`binary_data_size`), the requested outputs with their `binary_data` choice, the
 * request's id and parameters as they were.
 */
export function encodeBinaryRequest(request: InferRequest): { body: Buffer; headerLength: number } {
  const tensors = request.inputs.map((input) => encodeBinaryTensor(input.data));
  const header = {
    ...(request.id !== undefined && { id: request.id }),
    ...(request.parameters !== undefined && { parameters: request.parameters }),
    inputs: request.inputs.map((input, i) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      parameters: { ...input.parameters, binary_data_size: (tensors[i] as Uint8Array).byteLength },
    })),
    ...(request.outputs !== undefined && {
      outputs: request.outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary } })),
    }),
  };
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.length };
}

/**
 * Decodes the stored request for running.
 * @throws StratumError BAD_REQUEST when the payload holds no request (it was validated at submission).
 */
export function decodeInferAsyncPayload(payload: InferAsyncPayload, maxBytesElement: number): InferRequest {
  if (payload.binary !== undefined) {
    return decodeRestInferRequest({
      body: Buffer.from(payload.binary.body, 'base64'),
      headerLength: payload.binary.headerLength,
      maxBytesElement,
    });
  }
  if (payload.request === undefined) {
    throw new StratumError('BAD_REQUEST', 'the infer-async payload has neither "request" nor "binary"');
  }
  return decodeRestInferRequest({ body: Buffer.from(JSON.stringify(payload.request)), maxBytesElement });
}

/** The v2 response as the JSON a job result holds: every output as JSON data, none binary. */
export function inferResponseJson(response: InferResponse): unknown {
  const outputs = response.outputs.map((o) => (o.binary ? { ...o, binary: false } : o));
  return JSON.parse(encodeRestInferResponse({ ...response, outputs }).body as string) as unknown;
}
