/**
 * Sample requests for a warm-up: a JSON document holding one Open Inference Protocol request body
 * (`{"inputs": [...]}`) or an array of them, decoded exactly as a REST request would be (JSON data
 * only: a file has no binary section).
 */
import { StratumError } from '../errors/index.ts';
import { decodeRestInferRequest } from './protocol/rest-infer-request.ts';
import type { InferRequest } from './types.ts';

/** Most requests a warm-up document may hold (each runs on every instance before the version is ready). */
export const MAX_WARMUP_REQUESTS = 64;

/** What to parse. */
export interface WarmupRequestsSource {
  readonly text: string;
  /** Where the text came from, for messages (`iris/warmup.json`). */
  readonly origin: string;
  /** Largest BYTES element accepted. */
  readonly maxBytesElement: number;
}

/**
 * Parses a warm-up document.
 * @throws StratumError INVALID_MODEL naming the origin, the request's position and what was wrong.
 * @example
 * ```ts
 * parseWarmupRequests({ text: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}', origin: 'm/warmup.json', maxBytesElement: 1 << 20 })
 * ```
 */
export function parseWarmupRequests(source: WarmupRequestsSource): InferRequest[] {
  const { text, origin } = source;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StratumError('INVALID_MODEL', `${origin}: not valid JSON: ${(error as Error).message}`);
  }
  const bodies = Array.isArray(json) ? json : [json];
  if (bodies.length === 0) throw new StratumError('INVALID_MODEL', `${origin}: holds no request`);
  if (bodies.length > MAX_WARMUP_REQUESTS) {
    throw new StratumError(
      'INVALID_MODEL',
      `${origin}: holds ${bodies.length} requests, more than the ${MAX_WARMUP_REQUESTS} a warm-up runs`,
    );
  }
  return bodies.map((body, index) => {
    try {
      return decodeRestInferRequest({
        body: Buffer.from(JSON.stringify(body)),
        maxBytesElement: source.maxBytesElement,
      });
    } catch (error) {
      const where = Array.isArray(json) ? `${origin}: request ${index + 1}` : origin;
      throw new StratumError('INVALID_MODEL', `${where}: ${(error as Error).message}`, { cause: error });
    }
  });
}
