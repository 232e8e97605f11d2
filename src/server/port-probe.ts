/**
 * Whether a port can be listened on, asked before a server spends seconds loading models only to
 * find its port taken. The answer can be stale by the time the server listens (another process may
 * take the port in between), so the listen itself still reports a busy port too.
 */
import { createServer } from 'node:net';

/** Resolves when `host:port` can be listened on now; rejects with the listen error (EADDRINUSE…) otherwise. */
export function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
