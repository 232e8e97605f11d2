/**
 * The server's side of `--front-ends N`: N front-end processes (`node:cluster` workers) share the
 * public HTTP port, and this process answers their inference calls over one frame channel each and
 * their other requests on its own HTTP listener (a Unix socket in a private folder). The models,
 * the batcher, the store and every piece of state stay here, once: the front ends only parse and
 * print, so each added process adds a core's worth of HTTP and JSON work while dynamic batching
 * still sees every request.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../logging/logger.ts';
import { frameChannel } from './frame-channel.ts';
import { type AnswerHead, answerToFrame, type CallHead, callFromFrame } from './frame-messages.ts';
import {
  type FrontEndLifecycle,
  type FrontEndSettings,
  type InferAnswer,
  type InferCall,
} from './front-end-messages.ts';

/** Options of {@link startFrontEnds}. */
export interface FrontEndPoolOptions {
  readonly count: number;
  /** Where the public port is (a concrete port: cluster workers asking for port 0 would share one). */
  readonly host: string;
  readonly port: number;
  /** The server's HTTP listener on a Unix socket, already listening. */
  readonly httpSocket: string;
  /** A private folder for the frame socket. */
  readonly dir: string;
  readonly bodyLimitBytes: number;
  readonly maxBytesElementBytes: number;
  readonly keepAliveTimeoutMs: number;
  readonly answer: (call: InferCall) => Promise<InferAnswer>;
  readonly logger: Logger;
}

/** Running front ends. */
export interface FrontEndPool {
  readonly port: number;
  readonly count: number;
  /** Stops them: no new connections, in-flight requests finish; any still running after `graceMs` is killed. */
  close(graceMs: number): Promise<void>;
}

/** A front end that could not start (its listen failed): `code` is the system error's. */
export class FrontEndStartError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'FrontEndStartError';
  }
}

// A crash loop is not worth feeding: after this many unexpected exits in a minute, no more restarts.
const MAX_RESTARTS_PER_MINUTE = 10;

const ENTRY = new URL('./front-end-process.ts', import.meta.url);
const COMPILED = import.meta.url.endsWith('.js');

/** Starts the frame channel's listener, then the processes; resolves once every one listens. */
export async function startFrontEnds(options: FrontEndPoolOptions): Promise<FrontEndPool> {
  const { logger } = options;
  const frames = await listenForFrames(join(options.dir, 'frames.sock'), options.answer, logger);
  const settings: FrontEndSettings = {
    host: options.host,
    port: options.port,
    httpSocket: options.httpSocket,
    frameSocket: frames.path,
    bodyLimitBytes: options.bodyLimitBytes,
    maxBytesElementBytes: options.maxBytesElementBytes,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
  };
  const workers = new Set<Worker>();
  let closing = false;
  const restarts: number[] = [];

  function fork(): { worker: Worker; listening: Promise<number> } {
    cluster.setupPrimary({
      exec: fileURLToPath(COMPILED ? new URL(ENTRY.href.replace(/\.ts$/, '.js')) : ENTRY),
      execArgv: COMPILED ? [] : ['--import', import.meta.resolve('tsx')],
      args: [JSON.stringify(settings)],
    });
    const worker = cluster.fork();
    workers.add(worker);
    let listened = false;
    const listening = new Promise<number>((resolve, reject) => {
      worker.on('message', (message: FrontEndLifecycle) => {
        if (message.type === 'listening') {
          listened = true;
          resolve(message.port);
        }
        if (message.type === 'failed') reject(new FrontEndStartError(message.message, message.code));
      });
      worker.once('exit', (code, signal) => {
        workers.delete(worker);
        reject(
          new FrontEndStartError(`a front-end process exited while starting (code ${code}, ${signal})`, undefined),
        );
        // One that never listened failed to start: its caller hears of it, and another would fail too.
        if (!closing && listened) restart(code, signal);
      });
    });
    return { worker, listening };
  }

  function restart(code: number | null, signal: string | null): void {
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      logger.error({ code, signal }, 'a front-end process exited; too many restarts in a minute, not restarting it');
      return;
    }
    restarts.push(now);
    logger.warn({ code, signal }, 'a front-end process exited; starting another');
    fork().listening.catch((error: unknown) => logger.error({ err: error }, 'a replacement front end did not start'));
  }

  async function close(graceMs: number): Promise<void> {
    closing = true;
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            worker.send({ type: 'stop' } satisfies FrontEndLifecycle);
          }),
      ),
    );
    await frames.close();
  }

  const started = Array.from({ length: options.count }, () => fork());
  try {
    const ports = await Promise.all(started.map((s) => s.listening));
    return { port: ports[0] ?? options.port, count: options.count, close };
  } catch (error) {
    await close(0);
    throw error;
  }
}

/** The frame channel's listener: each front end connects once and sends its calls on that connection. */
async function listenForFrames(
  path: string,
  answer: (call: InferCall) => Promise<InferAnswer>,
  logger: Logger,
): Promise<{ path: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const channel = frameChannel<AnswerHead, CallHead>(socket, (error) =>
      logger.warn({ err: error }, 'a front-end channel failed'),
    );
    channel.onMessage((head, blobs) => {
      void answer(callFromFrame(head, blobs)).then((reply) => channel.send(...answerToFrame(reply)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
