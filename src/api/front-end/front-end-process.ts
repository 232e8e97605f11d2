/**
 * The entry of a front-end process (a `node:cluster` worker of `stratum serve --front-ends N`): it
 * listens on the server's public HTTP port (the cluster shares the socket and hands connections out
 * in turn) and answers with {@link frontEndHandler}. It holds no models, no store and no state
 * worth keeping: the server can stop it or start another at any time.
 */
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { frontEndHandler } from './front-end-handler.ts';
import type { FrontEndLifecycle, FrontEndSettings } from './front-end-messages.ts';
import { requestProxy } from './proxy-request.ts';
import { serverCalls } from './server-calls.ts';

function tell(message: FrontEndLifecycle): void {
  process.send?.(message);
}

function fail(error: unknown): never {
  const failure = error as NodeJS.ErrnoException;
  tell({
    type: 'failed',
    message: failure.message ?? String(error),
    ...(failure.code !== undefined && { code: failure.code }),
  });
  process.exit(1);
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? 'null') as FrontEndSettings | null;
  if (settings === null)
    throw new Error('no settings: a front-end process is started by the server, with its settings as its argument');
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(settings.frameSocket, () => resolve(s));
    s.once('error', reject);
  });
  // The server closes the channel last, after this process has stopped; an earlier end means the
  // server is gone, and so is the reason to answer.
  const calls = serverCalls(socket, () => undefined);
  let closing = false;
  const proxy = requestProxy({ socketPath: settings.httpSocket, closing: () => closing });
  const server = createServer(
    { keepAliveTimeout: settings.keepAliveTimeoutMs },
    frontEndHandler({ settings, calls, proxy, closing: () => closing }),
  );
  const stop = (): void => {
    if (closing) return;
    closing = true;
    server.close(() => {
      calls.close();
      proxy.close();
      process.disconnect?.();
    });
    // close() ends the connections idle now; one whose reply was under way when it was called
    // goes idle later, kept alive for the client, and is ended on the next sweep.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
  };
  void calls.closed.then(() => {
    if (!closing) process.exit(1);
  });
  process.on('message', (message: FrontEndLifecycle) => {
    if (message.type === 'stop') stop();
  });
  // The server decides when this process ends (it sends `stop` on its own shutdown); a signal to
  // the whole process group (Ctrl-C, a supervisor's SIGTERM) must not cut in-flight requests short,
  // nor look to the server like a crash to recover from. If the server dies, the cluster's IPC
  // channel closes and Node ends this process.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  server.once('error', fail);
  server.listen({ host: settings.host, port: settings.port }, () => {
    const address = server.address();
    tell({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : settings.port });
  });
}

main().catch(fail);
