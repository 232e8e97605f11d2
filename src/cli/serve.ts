/** `stratum serve`: serve until SIGTERM/SIGINT, then shut down gracefully (a second signal forces exit). */
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { openJobQueue } from '../queue/open-job-queue.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { startServer, type StratumServer } from '../server/stratum-server.ts';

/** Starts the server and resolves with the exit code once it has shut down. */
export async function serveUntilSignalled(options: { config: Readonly<Config>; logger: Logger }): Promise<number> {
  const queue = await servingQueue(options);
  let server: StratumServer;
  try {
    server = await startServer({ ...options, ...(queue !== undefined && { queue }) });
  } catch (error) {
    await queue?.close();
    throw error;
  }
  options.logger.info({ http: server.httpUrl, grpcPort: server.grpcPort }, 'stratum is serving');
  try {
    return await waitForSignal(server, options.logger);
  } finally {
    await queue?.close();
  }
}

/**
 * The job queue a replica consumes asynchronous inference from. The embedded queue lives in a
 * SQLite metadata database; a replica on PostgreSQL without a Redis queue serves without
 * `infer_async` (it says so) rather than refusing to start.
 */
async function servingQueue(options: { config: Readonly<Config>; logger: Logger }): Promise<JobQueue | undefined> {
  const { config, logger } = options;
  if (config.queueUrl === 'embedded' && !config.databaseUrl.startsWith('sqlite:')) {
    logger.info(
      {},
      'asynchronous inference is off: the embedded job queue needs a SQLite database (set STRATUM_QUEUE_URL=redis://…)',
    );
    return undefined;
  }
  return openJobQueue({ queueUrl: config.queueUrl, databaseUrl: config.databaseUrl, logger });
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
