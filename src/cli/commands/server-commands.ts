/**
 * `stratum serve` and `stratum demo`: the commands that run a server in this process. Their flags
 * override configuration settings (each flag names its setting, so the help shows the default and
 * the environment variable); the server's modules load only once a command runs, because they
 * take seconds to load and every other command would pay for them.
 */
import { format } from 'node:util';
import type { Logger, LogLevel } from '../../logging/logger.ts';
import { defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { settingOverrides } from './setting-overrides.ts';

/**
 * Sends grpc-js's own log lines through the process's logger (its default writes `E …` lines to
 * stderr, outside the log format). The demo's gRPC client is grpc-js. They go at debug level:
 * whatever fails there also fails the call into grpc-js, and that failure is what gets reported.
 * The logger is global to grpc-js, so the process's entry point, and nothing below it, sets it.
 */
async function routeGrpcLogs(logger: Logger): Promise<void> {
  const grpc = await import('@grpc/grpc-js');
  const line =
    (level: 'debug' | 'trace') =>
    (message?: unknown, ...params: unknown[]) =>
      logger[level]({ component: 'grpc-js' }, format(message, ...params));
  grpc.setLogger({ error: line('debug'), info: line('debug'), debug: line('trace') });
}

/** Where the registry lives: shared by serve, demo and train. */
export const STORE_OPTIONS = {
  'database-url': {
    type: 'string',
    value: 'url',
    setting: 'databaseUrl',
    description: 'the metadata store: sqlite:<file>, embedded, or postgres://user@host/db, shared by replicas',
  },
  'artifacts-url': {
    type: 'string',
    value: 'url',
    setting: 'artifactsUrl',
    description: 'where model files and run artifacts are stored: file:<folder>',
  },
} as const satisfies OptionsSpec;

/** Where jobs are queued: shared by serve, worker and train --queue. */
export const QUEUE_OPTIONS = {
  'queue-url': {
    type: 'string',
    value: 'url',
    setting: 'queueUrl',
    description: 'the job queue: embedded (in the metadata database) or redis://host:port, shared by workers',
  },
} as const satisfies OptionsSpec;

const PORT_OPTIONS = {
  host: { type: 'string', value: 'address', setting: 'host', description: 'the interface to listen on' },
  'http-port': {
    type: 'string',
    value: 'port',
    number: { integer: true, min: 0 },
    setting: 'httpPort',
    description: 'the REST port, 0 for any free one',
  },
  'grpc-port': {
    type: 'string',
    value: 'port',
    number: { integer: true, min: 0 },
    setting: 'grpcPort',
    description: 'the gRPC port, 0 for any free one',
  },
} as const satisfies OptionsSpec;

/** TLS for both ports (the files are re-read when they change). */
const TLS_OPTIONS = {
  'tls-cert': {
    type: 'string',
    value: 'file',
    file: true,
    setting: 'tls.certFile',
    description: 'serve HTTPS and gRPC over TLS with this certificate chain (PEM); needs --tls-key',
  },
  'tls-key': {
    type: 'string',
    value: 'file',
    file: true,
    setting: 'tls.keyFile',
    description: "the certificate's private key (PEM)",
  },
  'tls-ca': {
    type: 'string',
    value: 'file',
    file: true,
    setting: 'tls.caFile',
    description: 'CA certificates (PEM) client certificates must chain to, for mutual TLS',
  },
  'tls-client-auth': {
    type: 'string',
    value: 'mode',
    choices: ['none', 'request', 'require'],
    setting: 'tls.clientAuth',
    description: 'client certificates: none, request (optional) or require (mutual TLS); needs --tls-ca',
  },
} as const satisfies OptionsSpec;

/** The inference runtime's threads. */
const RUNTIME_OPTIONS = {
  workers: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    setting: 'runtime.workers',
    default: 'the number of cores',
    description: 'worker threads running model sessions',
  },
  'intra-op-threads': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    setting: 'runtime.intraOpThreads',
    description: 'onnxruntime threads per session',
  },
  'front-ends': {
    type: 'string',
    value: 'n|auto',
    setting: 'frontEnds',
    default: 'auto',
    description: 'processes answering the HTTP port (parsing and printing on cores of their own); 0: this process',
  },
} as const satisfies OptionsSpec;

const SERVE_OPTIONS = {
  ...STORE_OPTIONS,
  'no-registry': {
    type: 'boolean',
    setting: 'registry',
    negates: true,
    description: 'serve only the --models folder: no deployments, no management API',
  },
  models: {
    type: 'string',
    value: 'dir',
    file: true,
    setting: 'modelsDir',
    description: 'also serve this model folder: <dir>/<model>/<version>/model.onnx',
  },
  'no-watch': {
    type: 'boolean',
    setting: 'watch',
    negates: true,
    description: 'do not poll the --models folder for new and removed versions',
  },
  ...QUEUE_OPTIONS,
  'job-concurrency': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 0 },
    setting: 'jobs.serveConcurrency',
    description: 'on the embedded queue, jobs this process runs at once (0: none; run stratum worker instead)',
  },
  ...PORT_OPTIONS,
  ...TLS_OPTIONS,
  ...RUNTIME_OPTIONS,
  ...GLOBAL_OPTIONS,
} as const satisfies OptionsSpec;

/** `stratum serve`. */
export const serveCommand = defineCommand({
  name: 'serve',
  summary: "Serve the registry's deployments and a model folder over REST and gRPC",
  description:
    "Serve the registry's deployments (and the management API under /api/v1) and, with --models, a model folder, over the Open Inference Protocol v2: REST on --http-port, gRPC on --grpc-port. Replicas sharing one PostgreSQL database and artifact folder serve the same deployments. Logs go to stderr: readable lines on a terminal, JSON lines otherwise. Stops gracefully on SIGTERM or Ctrl-C.",
  args: [],
  options: SERVE_OPTIONS,
  examples: [
    'stratum serve',
    'stratum serve --models ./models --no-registry --http-port 9000',
    'stratum serve --database-url postgres://stratum@db/stratum --host 0.0.0.0',
    'stratum serve --tls-cert server.crt --tls-key server.key --tls-ca clients-ca.crt --tls-client-auth require',
  ],
  async run(cmd) {
    const [{ loadConfig }, { createLogger }, { serveUntilSignalled }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../serve.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(SERVE_OPTIONS, cmd.values) });
    // The gRPC server is node:http2 (src/api/grpc): grpc-js is not loaded and has nothing to log.
    const logger = createLogger({ level: config.logLevel as LogLevel });
    return serveUntilSignalled({ config, logger });
  },
});

const DEMO_OPTIONS = {
  once: { type: 'boolean', description: 'exit after the checks instead of serving until Ctrl-C' },
  quick: { type: 'boolean', description: 'a smoke test: 50,000 flights and 20 trees' },
  ...PORT_OPTIONS,
  ...RUNTIME_OPTIONS,
  ...STORE_OPTIONS,
  ...GLOBAL_OPTIONS,
  // The demo narrates what happens; the server's info lines would drown it.
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum demo`. */
export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'Train the bundled examples, register, deploy and serve them',
  description:
    'Train the bundled examples (a spam filter on 6,046 real e-mails, flight delays on 500,000 flights) as tracked runs, register and deploy them, answer raw rows over REST and gRPC, switch the spam filter blue-green under traffic, print commands to try, and serve until Ctrl-C.',
  args: [],
  options: DEMO_OPTIONS,
  examples: ['stratum demo', 'stratum demo --once --quick --http-port 0 --grpc-port 0'],
  async run(cmd) {
    const [{ loadConfig }, { createLogger }, { runDemo }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../demo.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(DEMO_OPTIONS, cmd.values) });
    // The demo narrates what happens; the server's info lines would drown it (ask for debug to see them).
    const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : (config.logLevel as LogLevel) });
    await routeGrpcLogs(logger);
    return runDemo({ config, logger, once: cmd.values.once === true, quick: cmd.values.quick === true });
  },
});
