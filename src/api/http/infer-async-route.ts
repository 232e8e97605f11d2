/**
 * `POST /v2/models/{m}[/versions/{v}]/infer_async`: the same body as `infer`, checked the same way
 * at once (a bad request is a 400 now, never a failed job later; an oversized one a 413), then
 * queued as an `infer-async` job. The reply is 202 with the job's id and a `Location` of
 * `/api/v1/jobs/{id}`, where its state, progress events and result are. A callback is asked for
 * with `X-Stratum-Callback-Url` (and optionally `X-Stratum-Callback-Secret`, else the server's);
 * `Idempotency-Key` makes a resubmission return the first job.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../errors/index.ts';
import { StratumError } from '../../errors/index.ts';
import { formatIssues } from '../../errors/format-issues.ts';
import { type CallbackTarget, CallbackTargetSchema, inferAsyncPayload } from '../../jobs/infer-async-payload.ts';
import { INFER_ASYNC_KIND } from '../../jobs/async-inference-worker.ts';
import { checkInferRequest } from '../../serving/check-infer-request.ts';
import type { InferAsyncDecoder } from '../../jobs/infer-async-decoder.ts';
import { decodeRestInferRequest } from '../../serving/protocol/rest-infer-request.ts';
import { type InferBody, readInferBody } from './infer-body.ts';
import type { RouteInput } from './route.ts';
import type { ServingContext } from './route-context.ts';

/** The 202 reply. */
export const InferAsyncReply = z.object({
  id: z.string().meta({ description: 'The job id' }),
  state: z.string().meta({ description: 'The job state (`waiting` when just queued)' }),
  location: z.string().meta({ description: 'Where the job, its result and its events are (also the Location header)' }),
});

/** What `infer_async` answers with besides 202. */
export const INFER_ASYNC_ERRORS: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'INVALID_JSON',
  'INVALID_INPUT',
  'INVALID_OUTPUT',
  'INVALID_PARAMETER',
  'MODEL_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'BODY_TOO_LARGE',
  'UNSUPPORTED',
  'QUEUE_UNAVAILABLE',
];

/** The handler of both `infer_async` routes. */
export async function inferAsync(
  { params, body, request, reply }: RouteInput<{ model: string; version?: string }, undefined, Buffer | undefined>,
  { service, config, asyncInference }: ServingContext,
) {
  if (asyncInference === undefined) {
    throw new StratumError('UNSUPPORTED', 'asynchronous inference needs a job queue; this server runs without one');
  }
  const { queue, settings } = asyncInference;
  const limit = settings.maxBodyBytes;
  if (body !== undefined && body.length > limit) {
    throw new StratumError(
      'BODY_TOO_LARGE',
      `the infer_async body is ${body.length} bytes, over the ${limit}-byte limit (asyncInference.maxBodyBytes); send large inputs as a batch job`,
      { details: { bytes: body.length, limit } },
    );
  }
  const read = await readAsyncBody({ body, request, config, decoder: asyncInference.decoder });
  const { model, version } = params;
  checkInferRequest(service, { model, request: read.decoded, ...(version !== undefined && { version }) });
  const callback = callbackOf(request.headers, settings.callbackSecret !== undefined);
  const refusal = callback === undefined ? undefined : asyncInference.callbackHosts.refusalOf(callback.url);
  if (refusal !== undefined) {
    const issues = [{ code: 'custom' as const, path: ['callback', 'url'], message: refusal }];
    throw new StratumError('BAD_REQUEST', `invalid callback: ${formatIssues({ issues })}`, { details: { issues } });
  }
  const idempotencyKey = headerValue(request.headers['idempotency-key']);
  const job = await queue.submit({
    kind: INFER_ASYNC_KIND,
    payload: inferAsyncPayload({
      model,
      body: read.body,
      decoded: read.decoded,
      ...(version !== undefined && { version }),
      ...(read.headerLength !== undefined && { headerLength: read.headerLength }),
      ...(callback !== undefined && { callback }),
    }),
    attempts: settings.attempts,
    ...(idempotencyKey !== undefined && { idempotencyKey: `infer-async:${idempotencyKey}` }),
  });
  const location = `/api/v1/jobs/${encodeURIComponent(job.id)}`;
  reply.header('location', location);
  return { id: job.id, state: job.state, location };
}

/**
 * Reads the body like `infer` does; a JSON body goes through the decoder's thread when there is
 * one, and comes back in the binary form (which decodes here in one step, as views).
 */
async function readAsyncBody(options: {
  body: Buffer | undefined;
  request: RouteInput<unknown, undefined, Buffer | undefined>['request'];
  config: ServingContext['config'];
  decoder: InferAsyncDecoder | undefined;
}): Promise<InferBody> {
  const { body, request, config, decoder } = options;
  const binaryAlready = request.headers['inference-header-content-length'] !== undefined;
  if (decoder === undefined || binaryAlready || body === undefined || body.length === 0) {
    return readInferBody(body, request, config);
  }
  const binary = await decoder.toBinary(body, config.maxBytesElementBytes);
  const decoded = decodeRestInferRequest({ ...binary, maxBytesElement: config.maxBytesElementBytes });
  return { decoded, ...binary };
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The callback the headers ask for; BAD_REQUEST when it is malformed or cannot be signed. */
function callbackOf(headers: Headers, serverSecret: boolean): CallbackTarget | undefined {
  const url = headerValue(headers['x-stratum-callback-url']);
  const secret = headerValue(headers['x-stratum-callback-secret']);
  if (url === undefined) {
    if (secret !== undefined)
      throw new StratumError('BAD_REQUEST', 'X-Stratum-Callback-Secret without X-Stratum-Callback-Url');
    return undefined;
  }
  const parsed = CallbackTargetSchema.safeParse({ url, ...(secret !== undefined && { secret }) });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: ['callback', ...issue.path] }));
    throw new StratumError('BAD_REQUEST', `invalid callback: ${formatIssues({ issues })}`, { details: { issues } });
  }
  if (parsed.data.secret === undefined && !serverSecret) {
    throw new StratumError(
      'BAD_REQUEST',
      'a callback must be signed: send X-Stratum-Callback-Secret (16 to 256 characters), or set asyncInference.callbackSecret (STRATUM_CALLBACK_SECRET) on the server',
    );
  }
  return parsed.data;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined || one.length === 0 ? undefined : one;
}
