/**
 * The payload of an `infer-async` job: the model, the v2 inference request exactly as the caller
 * sent it to `infer_async`, and where to send the outcome. A JSON body is kept as JSON (readable
 * in `GET /api/v1/jobs/{id}`); a body using the binary tensor extension is kept as base64 with its
 * header length, and both are decoded by the same REST decoder when the job runs. The result is
 * the v2 response as JSON (binary outputs are written as JSON data: a job result is JSON).
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { decodeRestInferRequest } from '../serving/protocol/rest-infer-request.ts';
import { encodeRestInferResponse } from '../serving/protocol/rest-infer-response.ts';
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
  /** The JSON body of the request (no binary tensor data). */
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
  /** `Inference-Header-Content-Length`, when the binary extension is used. */
  readonly headerLength?: number;
  readonly callback?: CallbackTarget;
}

/**
 * The job payload of an accepted request. The body has already been decoded once (so it parses);
 * a JSON body is stored parsed, a binary one as base64.
 */
export function inferAsyncPayload(source: InferAsyncSource): InferAsyncPayload {
  const { model, version, body, headerLength, callback } = source;
  const base = { model, ...(version !== undefined && { version }), ...(callback !== undefined && { callback }) };
  if (headerLength !== undefined) return { ...base, binary: { body: body.toString('base64'), headerLength } };
  return { ...base, request: JSON.parse(body.toString('utf8')) as Record<string, unknown> };
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
