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

/** A port free on `host` now (the system's choice for port 0); like a probe, it can be taken before it is used. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
