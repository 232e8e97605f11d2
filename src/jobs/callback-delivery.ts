/**
 * One delivery of an asynchronous inference's outcome to its callback URL: a JSON POST signed the
 * way webhooks are (GitHub's `X-Hub-Signature-256`): `X-Stratum-Signature: sha256=<hex HMAC-SHA256
 * of the exact body bytes>`, with `X-Stratum-Timestamp` (epoch ms) also inside the signed body so
 * a receiver can refuse replays. What is worth another attempt is decided here and carried by the
 * error code: a network error, a timeout, 5xx or 429 is CALLBACK_FAILED (retried by the queue);
 * any other non-2xx answer is CALLBACK_REJECTED (a 4xx code: not retried).
 */
import { createHmac } from 'node:crypto';
import { StratumError } from '../errors/index.ts';

/** The signature header's value for `body`. */
export function signCallbackBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Options of {@link deliverCallback}. */
export interface DeliverCallbackOptions {
  readonly url: string;
  /** The JSON body, sent as these exact bytes (the signature covers them). */
  readonly body: string;
  /** Epoch ms, the same as the body's `timestamp`. */
  readonly timestamp: number;
  readonly secret: string;
  /** One attempt gives up after this long. */
  readonly timeoutMs: number;
  /** Aborts the attempt (the job was cancelled or the worker is closing). */
  readonly signal?: AbortSignal;
  /** More headers (the trace context: `traceparent`). @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * POSTs the body once; resolves with the receiver's status when it is 2xx.
 * @throws StratumError CALLBACK_FAILED (retry) or CALLBACK_REJECTED (do not).
 */
export async function deliverCallback(options: DeliverCallbackOptions): Promise<number> {
  const { url, body, timestamp, secret, timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'stratum-callback',
        'x-stratum-signature': signCallbackBody(body, secret),
        'x-stratum-timestamp': String(timestamp),
        ...options.headers,
      },
      body,
      // A redirect is an answer, not an instruction: the signed body goes only where it was asked.
      redirect: 'manual',
      signal,
    });
    // The body is not used; reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new StratumError('CALLBACK_FAILED', `the callback to ${redact(url)} failed: ${why}`, {
      details: { url: redact(url) },
      cause: error,
    });
  }
  const status = response.status;
  if (status >= 200 && status < 300) return status;
  const retry = status >= 500 || status === 429;
  throw new StratumError(
    retry ? 'CALLBACK_FAILED' : 'CALLBACK_REJECTED',
    `the callback to ${redact(url)} answered ${status}${retry ? '' : '; not retried'}`,
    { details: { url: redact(url), status } },
  );
}

/** The URL without credentials or query (it may carry tokens), for messages and logs. */
function redact(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
