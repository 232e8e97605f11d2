/**
 * The small HTTP server of a process that has no API of its own (`stratum worker`): `GET /metrics`
 * renders the process's Prometheus registry, `GET /healthz` answers 200 while the process does its
 * work and 503 otherwise (a Kubernetes probe). Plain `node:http`: two read-only routes need no
 * framework, no body parsing and no permissions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Interface to listen on. */
  readonly host: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Rendered on `GET /metrics`. */
  readonly registry: Registry;
  /** `GET /healthz` answers 200 while this says true, 503 otherwise. */
  readonly ready: () => boolean;
  /** Hears a failed render. @default none */
  readonly logger?: Logger;
}

/** A listening metrics server. */
export interface MetricsServer {
  /** The bound port (the chosen one when asked for 0). */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and ends idle connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listens on `host:port`.
 *
 * @throws StratumError PORT_IN_USE when another process holds the port.
 * @example
 * ```ts
 * const server = await startMetricsServer({ host: '0.0.0.0', port: 9464, registry, ready: () => consuming });
 * ```
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, ready, logger } = options;
  const server = createServer((request, response) => {
    void answer(request, response, { registry, ready }).catch((error: unknown) => {
      logger?.warn({ err: error }, 'rendering the metrics failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
    throw new StratumError('PORT_IN_USE', `port ${options.port} is in use (metrics)`, {
      details: { port: options.port, protocol: 'HTTP', setting: 'jobs.metricsPort' },
      cause: error,
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper keeps its connection alive between scrapes; an idle one would hold close() open.
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  context: Pick<MetricsServerOptions, 'registry' | 'ready'>,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const text = await context.registry.metrics();
    response.writeHead(200, { 'content-type': context.registry.contentType }).end(text);
    return;
  }
  if (path === '/healthz') {
    const ok = context.ready();
    response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
}
