/**
 * One delivery of an asynchronous inference's outcome to its callback URL: a JSON POST signed the
 * way webhooks are (GitHub's `X-Hub-Signature-256`): `X-Stratum-Signature: sha256=<hex HMAC-SHA256
 * of the exact body bytes>`, with `X-Stratum-Timestamp` (epoch ms) also inside the signed body so
 * a receiver can refuse replays. What is worth another attempt is decided here and carried by the
 * error code: a network error, a timeout, 5xx or 429 is CALLBACK_FAILED (retried by the queue);
 * any other non-2xx answer, and a host the callback policy refuses, is CALLBACK_REJECTED (a 4xx
 * code: not retried). The POST goes through node:http(s) rather than fetch because the socket must
 * connect to the addresses the policy checked (its `lookup`), not to a second resolution.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StratumError } from '../errors/index.ts';
import { CALLBACK_HOST_REFUSED, type CallbackHostPolicy } from './callback-host-policy.ts';

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
  /** Where callbacks may go (checked on the addresses this delivery connects to). */
  readonly hosts: CallbackHostPolicy;
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
  const { url, body, timestamp, secret, timeoutMs, hosts } = options;
  const refusal = hosts.refusalOf(url);
  if (refusal !== undefined) throw refused(url, refusal);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  let status: number;
  try {
    status = await post({
      url,
      body,
      hosts,
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'stratum-callback',
        'x-stratum-signature': signCallbackBody(body, secret),
        'x-stratum-timestamp': String(timestamp),
        ...options.headers,
      },
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if ((error as NodeJS.ErrnoException).code === CALLBACK_HOST_REFUSED) throw refused(url, (error as Error).message);
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new StratumError('CALLBACK_FAILED', `the callback to ${redact(url)} failed: ${why}`, {
      details: { url: redact(url) },
      cause: error,
    });
  }
  if (status >= 200 && status < 300) return status;
  const retry = status >= 500 || status === 429;
  throw new StratumError(
    retry ? 'CALLBACK_FAILED' : 'CALLBACK_REJECTED',
    `the callback to ${redact(url)} answered ${status}${retry ? '' : '; not retried'}`,
    { details: { url: redact(url), status } },
  );
}

/** One POST; resolves with the status once the answer's body has been read (or dropped). */
function post(options: {
  url: string;
  body: string;
  headers: Record<string, string>;
  hosts: CallbackHostPolicy;
  signal: AbortSignal;
}): Promise<number> {
  const target = new URL(options.url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // A redirect is an answer, not an instruction: node:http never follows one, so the signed body
    // goes only where it was asked.
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        lookup: options.hosts.lookup,
        signal: options.signal,
      },
      (res: IncomingMessage) => {
        // The body is not used; reading it lets the connection be reused.
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function refused(url: string, reason: string): StratumError {
  return new StratumError('CALLBACK_REJECTED', `the callback to ${redact(url)} was refused: ${reason}; not retried`, {
    details: { url: redact(url), reason },
  });
}

/** The URL without credentials or query (it may carry tokens), for messages and logs. */
function redact(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
