/**
 * A Fastify 5 app with exactly the HTTP settings Stratum's REST server uses (body limit, keep-alive,
 * close behaviour, every body read as a Buffer), so reference servers differ from Stratum only in
 * what their route does.
 */
import Fastify, { type FastifyInstance } from 'fastify';

/** Stratum's default `bodyLimitBytes`. */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** Creates the app (not listening). */
export function createBenchFastify(): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  return app;
}

/** Listens on a free loopback port, prints `{"httpPort": N, …extra}` and closes on SIGTERM/SIGINT. */
export async function serveAndAnnounce(
  app: FastifyInstance,
  extra: Record<string, unknown> = {},
  onClose: () => Promise<void> = async () => undefined,
): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ httpPort, ...extra })}\n`);
  const shutdown = (): void => {
    void Promise.allSettled([app.close(), onClose()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
