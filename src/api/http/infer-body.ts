/**
 * Reading an inference body off the wire, shared by `infer` and `infer_async`: JSON, or the binary
 * tensor extension's JSON header and raw bytes (`Inference-Header-Content-Length`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../../config/index.ts';
import { StratumError } from '../../errors/index.ts';
import { decodeRestInferRequest } from '../../serving/protocol/rest-infer-request.ts';
import type { InferRequest } from '../../serving/types.ts';

/** A decoded body, with the bytes it came from and its header length when it is binary. */
export interface InferBody {
  readonly decoded: InferRequest;
  readonly body: Buffer;
  readonly headerLength?: number;
}

/**
 * Decodes an inference body.
 * @throws StratumError BAD_REQUEST, INVALID_JSON, INVALID_INPUT or INVALID_PARAMETER.
 */
export function readInferBody(
  body: Buffer | undefined,
  request: { readonly headers: IncomingHttpHeaders },
  config: Pick<Config, 'maxBytesElementBytes'>,
): InferBody {
  if (body === undefined || body.length === 0) {
    throw new StratumError('BAD_REQUEST', 'the inference request has no body; send JSON with an "inputs" array');
  }
  const rawLength = request.headers['inference-header-content-length'];
  let headerLength: number | undefined;
  if (rawLength !== undefined) {
    headerLength = Number(rawLength);
    if (!Number.isInteger(headerLength) || headerLength < 0) {
      throw new StratumError(
        'BAD_REQUEST',
        `Inference-Header-Content-Length must be a non-negative integer, got "${String(rawLength)}"`,
      );
    }
  }
  if (headerLength === undefined) {
    return { decoded: decodeRestInferRequest({ body, maxBytesElement: config.maxBytesElementBytes }), body };
  }
  const decoded = decodeRestInferRequest({ body, headerLength, maxBytesElement: config.maxBytesElementBytes });
  return { decoded, body, headerLength };
}
