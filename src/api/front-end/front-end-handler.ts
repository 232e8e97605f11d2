/**
 * A front end's HTTP handler. Inference requests (`POST /v2/models/{m}[/versions/{v}]/infer`) are
 * read and decoded here, sent to the server as typed arrays, and their answers encoded here: the
 * parsing and printing of tensors, most of a JSON request's cost, runs on this process's core.
 * Everything else, and any inference request this path declines (an undecodable body, an unusual
 * URL), is proxied to the server as it came, so the server's answer is the one the client gets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StratumError } from '../../errors/index.ts';
import { encodeRestInferResponse } from '../../serving/protocol/rest-infer-response.ts';
import type { InferRequest } from '../../serving/types.ts';
import { readInferBody } from '../http/infer-body.ts';
import type { FrontEndSettings, InferAnswer } from './front-end-messages.ts';
import type { RequestProxy } from './proxy-request.ts';
import type { ServerCalls } from './server-calls.ts';

const INFER_PATH = /^\/v2\/models\/([^/?#]+)(?:\/versions\/([^/?#]+))?\/infer(?:\?.*)?$/;

/** What the handler uses. */
export interface FrontEndHandlerOptions {
  readonly settings: Pick<FrontEndSettings, 'bodyLimitBytes' | 'maxBytesElementBytes'>;
  readonly calls: ServerCalls;
  readonly proxy: RequestProxy;
  readonly closing: () => boolean;
}

/** Builds the `request` listener. */
export function frontEndHandler(options: FrontEndHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { settings, calls, proxy, closing } = options;
  let requests = 0;
  const prefix = `fe${process.pid}-`;

  function reply(
    res: ServerResponse,
    status: number,
    content: { headers: Record<string, string | number>; body: string | Buffer },
  ) {
    const { headers, body } = content;
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (closing()) headers['connection'] = 'close';
    res.writeHead(status, headers);
    res.end(body);
  }

  function send(res: ServerResponse, answer: InferAnswer): void {
    if (!answer.ok) {
      reply(res, answer.status, { headers: { ...answer.headers }, body: answer.body });
      return;
    }
    const encoded = encodeRestInferResponse(answer.response);
    const headers: Record<string, string | number> = { ...answer.headers, 'content-type': encoded.contentType };
    if (encoded.headerLength !== undefined) headers['inference-header-content-length'] = encoded.headerLength;
    reply(res, 200, { headers, body: encoded.body });
  }

  async function infer(req: IncomingMessage, res: ServerResponse, target: { model: string; version?: string }) {
    const { model, version } = target;
    const body = await readBody(req, settings.bodyLimitBytes);
    if (body === undefined) {
      const error = new StratumError(
        'BODY_TOO_LARGE',
        `the request body is over the ${settings.bodyLimitBytes}-byte limit`,
      );
      const body = JSON.stringify({ error: error.message, code: error.code });
      reply(res, error.status, { headers: { 'content-type': 'application/json' }, body });
      return;
    }
    let request: InferRequest;
    try {
      request = readInferBody(body, req, settings).decoded;
    } catch {
      proxy.forward(req, res, body);
      return;
    }
    const answer = await calls.infer({
      model,
      ...(version !== undefined && { version }),
      url: req.url ?? '/',
      headers: req.headers,
      ...(req.socket.remoteAddress !== undefined && { source: req.socket.remoteAddress }),
      requestId: `${prefix}${++requests}`,
      request,
    });
    send(res, answer);
  }

  return (req, res) => {
    const match =
      req.method === 'POST' && req.headers['content-type'] !== undefined ? INFER_PATH.exec(req.url ?? '') : null;
    const model = match === null ? undefined : decoded(match[1]!);
    const version = match?.[2] === undefined ? undefined : decoded(match[2]);
    if (match === null || model === undefined || (match[2] !== undefined && version === undefined)) {
      proxy.forward(req, res);
      return;
    }
    infer(req, res, { model, ...(version !== undefined && { version }) }).catch(() => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = JSON.stringify({ error: 'the server is shutting down or restarting; retry', code: 'SHUTTING_DOWN' });
      reply(res, 503, { headers: { 'content-type': 'application/json' }, body: text });
    });
  };
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The whole body, or undefined once it passes the limit (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
    // A client that leaves mid-body ends the request without 'end'.
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client left before sending the whole body'));
    });
  });
}
