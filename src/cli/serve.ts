/** `stratum serve`: serve until SIGTERM/SIGINT, then shut down gracefully (a second signal forces exit). */
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { startServer, type StratumServer } from '../server/stratum-server.ts';

/** Starts the server and resolves with the exit code once it has shut down. */
export async function serveUntilSignalled(options: { config: Readonly<Config>; logger: Logger }): Promise<number> {
  const server = await startServer(options);
  options.logger.info({ http: server.httpUrl, grpcPort: server.grpcPort }, 'stratum is serving');
  return waitForSignal(server, options.logger);
}

/** Resolves after the first SIGTERM/SIGINT has closed the server; a second one exits at once. */
export function waitForSignal(server: StratumServer, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      server.close().then(
        () => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          logger.info({}, 'stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
