/**
 * Passes a request the front end does not answer itself to the server's own HTTP listener (a Unix
 * socket only the server's processes can reach), and its reply back: management routes, metrics,
 * the dashboard, event streams, and any inference request the fast path declined (so every error
 * reply is the server's own, checked in the server's order: access first, then the body).
 */
import { Agent, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: each side sets its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Proxies to one Unix socket. */
export interface RequestProxy {
  /** Forwards `request` (its body streamed, or `body` when the front end has already read it). */
  forward(request: IncomingMessage, response: ServerResponse, body?: Buffer): void;
  close(): void;
}

/** Creates the proxy with a keep-alive pool of connections to the server. */
export function requestProxy(options: { socketPath: string; closing: () => boolean }): RequestProxy {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return {
    forward(request, response, body) {
      const headers = { ...request.headers };
      for (const name of HOP_BY_HOP) delete headers[name];
      const client = request.socket.remoteAddress;
      if (client !== undefined) {
        const prior = headers['x-forwarded-for'];
        headers['x-forwarded-for'] = prior === undefined ? client : `${String(prior)}, ${client}`;
      }
      if (body !== undefined) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      const upstream = httpRequest({
        agent,
        socketPath: options.socketPath,
        method: request.method,
        path: request.url,
        headers,
      });
      upstream.on('response', (reply) => {
        const replyHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(reply.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) replyHeaders[name] = value;
        }
        if (options.closing()) replyHeaders['connection'] = 'close';
        response.writeHead(reply.statusCode ?? 502, replyHeaders);
        reply.pipe(response);
      });
      upstream.on('error', () => {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const text = JSON.stringify({
          error: 'the server is shutting down or restarting; retry',
          code: 'SHUTTING_DOWN',
        });
        response.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        response.end(text);
      });
      // A client that leaves (an event stream closed by the browser) ends the server's side too.
      response.on('close', () => {
        if (!response.writableFinished) upstream.destroy();
      });
      if (body !== undefined) upstream.end(body);
      else request.pipe(upstream);
    },
    close: () => agent.destroy(),
  };
}
