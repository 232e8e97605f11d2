/**
 * The `stratum` command line: a thin shell over the library. Each command parses its flags,
 * loads the configuration once, and calls the same functions the tests call.
 */
import { parseArgs } from 'node:util';
import { type ConfigInput, loadConfig } from '../config/index.ts';
import { isStratumError } from '../errors/index.ts';
import { createLogger, type LogLevel } from '../logging/logger.ts';
import { runDemo } from './demo.ts';
import { serveUntilSignalled } from './serve.ts';

const HELP = `stratum — train, register, serve and monitor models

Usage:
  stratum serve [--database-url sqlite:.stratum/stratum.db | postgres://…]
                [--artifacts-url file:.stratum/artifacts] [--no-registry] [--models <dir>]
                [--host 127.0.0.1] [--http-port 8000] [--grpc-port 8001]
                [--workers N] [--intra-op-threads N] [--no-watch] [--log-level info]
      Serve the registry's deployments (and the management API under /api/v1) and, with
      --models, a model folder (<dir>/<model>/<version>/model.onnx), over the Open Inference
      Protocol v2: REST on --http-port, gRPC on --grpc-port. Replicas sharing one PostgreSQL
      database and artifact folder serve the same deployments.
  stratum demo [--http-port 8000] [--grpc-port 8001] [--once]
      Build the bundled example models, serve them, answer a request over REST and gRPC,
      print curl commands, and serve until Ctrl-C (--once: exit after the check).
  stratum help
`;

const SERVER_FLAGS = {
  models: { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  'grpc-port': { type: 'string' },
  workers: { type: 'string' },
  'intra-op-threads': { type: 'string' },
  'no-watch': { type: 'boolean' },
  'database-url': { type: 'string' },
  'artifacts-url': { type: 'string' },
  'no-registry': { type: 'boolean' },
  'log-level': { type: 'string' },
  once: { type: 'boolean' },
} as const;

/** Flags shared by serve and demo, as configuration overrides. */
function overridesFrom(values: Record<string, string | boolean | undefined>): ConfigInput {
  const num = (flag: string): number | undefined => {
    const raw = values[flag];
    return typeof raw === 'string' ? Number(raw) : undefined;
  };
  const runtime: Record<string, number> = {};
  if (num('workers') !== undefined) runtime['workers'] = num('workers') as number;
  if (num('intra-op-threads') !== undefined) runtime['intraOpThreads'] = num('intra-op-threads') as number;
  const out: Record<string, unknown> = {
    host: values['host'],
    httpPort: num('http-port'),
    grpcPort: num('grpc-port'),
    modelsDir: values['models'],
    logLevel: values['log-level'],
    watch: values['no-watch'] === true ? false : undefined,
    databaseUrl: values['database-url'],
    artifactsUrl: values['artifacts-url'],
    registry: values['no-registry'] === true ? false : undefined,
  };
  if (Object.keys(runtime).length > 0) out['runtime'] = runtime;
  return out as ConfigInput;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command !== 'serve' && command !== 'demo') {
    process.stderr.write(`stratum: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: SERVER_FLAGS, strict: true, allowPositionals: false });
  const config = loadConfig({ overrides: overridesFrom(values) });
  const logger = createLogger({ level: config.logLevel as LogLevel });
  if (command === 'serve') return serveUntilSignalled({ config, logger });
  return runDemo({ config, logger, once: values.once === true });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isStratumError(error)) process.stderr.write(`stratum: ${error.message}\n`);
    else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`stratum: ${error.message}\n\n${HELP}`);
    } else
      process.stderr.write(`stratum: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
